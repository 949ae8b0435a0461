"""Starts the real groupd behind a real nginx on loopback, in a temporary prefix.

Everything runs under one temporary directory: the database, the FastCGI
sockets, nginx's config, pid file and temp paths.  Processes are stopped by
the PIDs this harness started, never by name.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import contract

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GROUPD_BIN_DIR", os.path.join(ROOT, "src"))
GROUPD = os.path.join(BIN, "groupd")
GROUPCTL = os.path.join(BIN, "groupctl")
PARAMS = os.path.join(ROOT, "deploy", "nginx", "groupd_fastcgi_params")
# The /docs/ page as `make docs-site` assembles it beside the binaries.
DOCS = os.environ.get("GROUPD_DOCS_DIR", os.path.join(os.path.dirname(BIN), "docs-site"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# GROUPD_VALGRIND=DIR runs every groupd under valgrind's memcheck, one log per
# process in DIR (tests/valgrind.sh reads them).
VALGRIND = os.environ.get("GROUPD_VALGRIND")


def wrapped(args):
    if not VALGRIND:
        return args
    return ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite",
            "--errors-for-leak-kinds=definite", "--track-fds=no", "--child-silent-after-fork=no",
            f"--log-file={VALGRIND}/vg.%p.log"] + args


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def stop_pid(pid, sig, timeout=15):
    """Signals a process this harness started and waits for it to go."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout)


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def workers(pid):
    """The master's children that serve FastCGI (not the writer)."""
    return [c for c in children(pid) if comm(c) != "groupd-writer"]


def writer(pid):
    """The master's writer process, or None."""
    w = [c for c in children(pid) if comm(c) == "groupd-writer"]
    return w[0] if w else None


def children(pid):
    """PIDs whose parent is pid, read from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return sorted(out)


SHARDS = os.path.join(ROOT, "deploy", "nginx", "shards")


def shards_nginx(d, port, servers, maps=None, workers=1):
    """The shipped deploy/nginx/shards files written into d, each shard's upstream server
    (servers: {1: "unix:/path.sock" or "10.231.1.2:9000", ...}) and the map files
    (maps: {"tenants.map": text, ...}; the shipped ones when None) in place, nginx listening
    on 127.0.0.1:port; returns the nginx.conf to start nginx with (-c conf -p d)."""
    names = ["groupd-shards.conf", "groupd-site.conf"] + ([] if maps else ["hosts.map",
                                                                           "tenants.map"])
    for name in names:
        with open(os.path.join(SHARDS, name)) as f:
            text = f.read()
        for n, server in servers.items():
            text = text.replace(f"server unix:/run/groupd-{n}/groupd.sock;", f"server {server};")
        for old, new in (("/etc/groupd/hosts.map", os.path.join(d, "hosts.map")),
                         ("/etc/groupd/tenants.map", os.path.join(d, "tenants.map")),
                         ("/etc/groupd/groupd_fastcgi_params", PARAMS),
                         ("/usr/share/groupd/docs/", os.path.join(d, "docs") + "/"),
                         ("listen 80;", f"listen 127.0.0.1:{port};")):
            text = text.replace(old, new)
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for name, text in (maps or {}).items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    tmp = os.path.join(d, "tmp")
    os.makedirs(tmp, exist_ok=True)
    os.chmod(tmp, 0o777)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi; proxy_temp_path {tmp}/proxy;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  include {d}/groupd-shards.conf;
  include {d}/groupd-site.conf;
}}
""")
    return conf


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def http_request(port, method, path, key=None, body=None, ctype=None, headers=None, raw=None,
                 bearer=False):
    """One request to 127.0.0.1:port; body is sent as JSON, raw as given bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = dict(headers or {})
    if key:
        if bearer:
            h["Authorization"] = "Bearer " + key
        else:
            h["api-key"] = key
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if ctype is not None:
        h["Content-Type"] = ctype
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
    conn.close()
    # groupd stamps every answer with X-Request-Id; one without it came from
    # the web server itself (a 502 while groupd stops), not from groupd.
    if resp.header("x-request-id"):
        contract.check(method, path, resp.status, resp.header("content-type"), resp.body)
    return resp


class Stack:
    """groupd (master + workers on a unix socket) and nginx serving it at / and /api/."""

    def __init__(self, workers=2, max_body=None, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="groupd-it-")
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "db")
        self.sock = os.path.join(self.dir, "groupd.sock")
        self.fd0_sock = os.path.join(self.dir, "fd0.sock")
        self.log = os.path.join(self.dir, "groupd.log")
        self.port = free_port()
        self.workers = workers
        self.max_body = max_body
        self.extra_args = list(extra_args)
        self.groupd = None
        self.fd0 = None
        self.nginx_pid = None

    # ---- processes ----
    def groupctl(self, *args, check=True):
        r = subprocess.run([GROUPCTL, "--db", self.db, *args], capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"groupctl {args} failed: {r.stderr}")
        return r

    def key(self, top, role, orgs=(), name="test"):
        args = ["key", "create", "--top-organisation", str(top), "--role", role, "--name", name]
        for o in orgs:
            args += ["--organisation", str(o)]
        return self.groupctl(*args).stdout.splitlines()[0]

    def start_groupd(self):
        args = [GROUPD, "--db", self.db, "--listen", "unix:" + self.sock,
                "--workers", str(self.workers), "--log", self.log, *self.extra_args]
        if self.max_body:
            args += ["--max-body", str(self.max_body)]
        self.groupd = subprocess.Popen(wrapped(args), stdin=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(self.sock) and len(children(self.groupd.pid)) >= self.workers,
                        60 if VALGRIND else 10):
            raise RuntimeError("groupd did not start: " + self.read_log())

    def start_fd0(self):
        """groupd as mod_fcgid or spawn-fcgi run it: the listening socket on fd 0."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.fd0_sock)
        os.chmod(self.fd0_sock, 0o666)
        s.listen(128)
        args = [GROUPD, "--db", self.db, "--log", self.log]
        if self.max_body:
            args += ["--max-body", str(self.max_body)]
        self.fd0 = subprocess.Popen(wrapped(args), stdin=s.fileno())
        s.close()

    def start_nginx(self):
        conf = os.path.join(self.dir, "nginx.conf")
        tmp = os.path.join(self.dir, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        os.chmod(tmp, 0o777)
        body = (f"client_max_body_size {(self.max_body or 32 << 20) * 4}; "
                "large_client_header_buffers 4 64k;")
        loc = lambda prefix, sock: (
            f"location {prefix or '/'} {{ include {PARAMS}; fastcgi_param SCRIPT_NAME \"{prefix.rstrip('/')}\"; "
            f"fastcgi_pass unix:{sock}; fastcgi_read_timeout 60s; }}")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  {body}
  client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi; proxy_temp_path {tmp}/proxy;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  include /etc/nginx/mime.types;
  server {{
    listen 127.0.0.1:{self.port};
    location /docs/ {{ alias {DOCS}/; }}
    {loc('/api/', self.sock)}
    {loc('/fd0/', self.fd0_sock)}
    {loc('', self.sock)}
  }}
}}
""")
        subprocess.run([NGINX, "-c", conf, "-p", self.dir], check=True,
                       timeout=30, stderr=subprocess.PIPE)
        pidfile = os.path.join(self.dir, "nginx.pid")
        if not wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip()):
            raise RuntimeError("nginx did not start")
        self.nginx_pid = int(open(pidfile).read())
        wait_for(self._port_open)

    def _port_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self):
        self.start_groupd()
        self.start_nginx()
        return self

    def stop(self):
        if self.nginx_pid:
            stop_pid(self.nginx_pid, signal.SIGQUIT)
        for p in (self.groupd, self.fd0):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def request(self, *args, **kw):
        return http_request(self.port, *args, **kw)


APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"


class ApacheStack:
    """Apache 2.4 + mod_fcgid running groupd from a wrapper script on fd 0.

    Apache will not run programs as root, so the database directory and a
    copy of the binary belong to (and are reachable by) www-data.
    """

    def __init__(self, db, log):
        self.dir = tempfile.mkdtemp(prefix="groupd-apache-")
        os.chmod(self.dir, 0o755)
        self.db = db
        self.log = log
        self.port = free_port()
        self.pid = None

    def start(self):
        import pwd
        www = pwd.getpwnam("www-data")
        binary = os.path.join(self.dir, "groupd")
        shutil.copy(GROUPD, binary)
        os.chmod(binary, 0o755)
        wrapper = os.path.join(self.dir, "groupd.fcgi")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {binary} --db {self.db} --log {self.log}\n")
        os.chmod(wrapper, 0o755)
        for root, dirs, files in os.walk(self.db):
            for name in dirs + files + [""]:
                os.chown(os.path.join(root, name), www.pw_uid, www.pw_gid)
        with open(self.log, "a"):
            pass
        os.chown(self.log, www.pw_uid, www.pw_gid)
        for sub in ("run", "fcgid"):
            os.makedirs(os.path.join(self.dir, sub))
            os.chown(os.path.join(self.dir, sub), www.pw_uid, www.pw_gid)
        if os.path.isdir(DOCS):
            shutil.copytree(DOCS, os.path.join(self.dir, "docs"))
        conf = os.path.join(self.dir, "httpd.conf")
        mods = ["mpm_event", "authz_core", "alias", "fcgid", "mime", "dir"]
        with open(conf, "w") as f:
            f.write("\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in mods))
            f.write(f"""
ServerRoot {self.dir}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {self.dir}/httpd.pid
DefaultRuntimeDir {self.dir}/run
ErrorLog {self.dir}/error.log
LogLevel warn
User www-data
Group www-data
FcgidIPCDir {self.dir}/fcgid
FcgidProcessTableFile {self.dir}/fcgid/table
AllowEncodedSlashes NoDecode
TypesConfig /etc/mime.types
Alias /groupd/docs {self.dir}/docs
<Directory {self.dir}/docs>
    DirectoryIndex index.html
    Require all granted
</Directory>
ScriptAlias /groupd {wrapper}
<Location /groupd>
    SetHandler fcgid-script
    Options +ExecCGI
    Require all granted
</Location>
<Location /groupd/docs>
    SetHandler None
</Location>
FcgidPassHeader Authorization
FcgidMaxRequestLen 67108864
LimitRequestLine 65536
FcgidMaxProcessesPerClass 2
""")
        r = subprocess.run([APACHE, "-f", conf, "-k", "start"], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("apache did not start: " + r.stderr)
        pidfile = os.path.join(self.dir, "httpd.pid")
        if not wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip()):
            raise RuntimeError("apache did not write its pid file")
        self.pid = int(open(pidfile).read())
        return self

    def stop(self):
        if self.pid:
            stop_pid(self.pid, signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, *args, **kw):
        return http_request(self.port, *args, **kw)


def fcgi_request(sock_path, params, body=b"", send_body=None, timeout=30, keep_open=None):
    """One FastCGI request straight to groupd's socket, as a web server would send it.

    params: dict of CGI parameters (bytes or str). send_body: the stdin bytes actually sent
    (default: body); CONTENT_LENGTH says len(body), so a shorter send_body is a cut body.
    keep_open: a list that gets the connection, left open, instead of closing it after the
    request's end record. Returns (status, headers dict, body bytes)."""
    import struct

    def record(rtype, content):
        return struct.pack(">BBHHBx", 1, rtype, 1, len(content), 0) + content

    def pair(name, value):
        name = name.encode() if isinstance(name, str) else name
        value = value.encode() if isinstance(value, str) else value
        out = b""
        for n in (len(name), len(value)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        return out + name + value

    params = dict(params)
    params.setdefault("CONTENT_LENGTH", str(len(body)))
    data = record(1, struct.pack(">HB5x", 1, 0))
    blob = b"".join(pair(k, v) for k, v in params.items())
    for i in range(0, len(blob), 65535):
        data += record(4, blob[i:i + 65535])
    data += record(4, b"")
    sent = body if send_body is None else send_body
    for i in range(0, len(sent), 65535):
        data += record(5, sent[i:i + 65535])
    data += record(5, b"")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(data)
    out, buf = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            _, rtype, _, clen, plen = struct.unpack(">BBHHB", buf[:7])
            if len(buf) < 8 + clen + plen:
                break
            content = buf[8:8 + clen]
            buf = buf[8 + clen + plen:]
            if rtype == 6:
                out += content
            elif rtype == 3:
                if keep_open is None:
                    s.close()
                else:
                    keep_open.append(s)
                head, _, payload = out.partition(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n"):
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                status = int(headers.get("status", "200").split()[0])
                p = {(k.decode() if isinstance(k, bytes) else k): v for k, v in params.items()}
                method = p.get("REQUEST_METHOD", "GET")
                uri = p.get("REQUEST_URI", "/")
                uri = uri.decode("latin-1") if isinstance(uri, bytes) else uri
                script = p.get("SCRIPT_NAME", "")
                script = script.decode("latin-1") if isinstance(script, bytes) else script
                if script and uri.startswith(script):
                    uri = uri[len(script):]
                contract.check(method.decode("latin-1") if isinstance(method, bytes) else method,
                               uri, status, headers.get("content-type"), payload.decode("utf-8", "replace"))
                return status, headers, payload
    s.close()
    raise RuntimeError("groupd closed the connection without ending the request")
