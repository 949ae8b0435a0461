"""Integration test: the Debian package (debian/), built, linted, installed, run.

dpkg-buildpackage builds groupd_<version>_amd64.deb from a copy of the tree;
lintian must report no error; dpkg -i installs it (the postinst creates the
groupd user and /var/lib/groupd); then the installed programs run as that user
the way the packaged systemd unit starts them, behind nginx with the packaged
site configuration, for one create, one read and the /docs/ page.  CI cannot
boot systemd: the unit's command line is taken from the installed unit file.
Needs root (dpkg -i); the package is purged again if it was not installed before.
"""
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import NGINX, ROOT, free_port, http_request, stop_pid, wait_for

UNIT = "/lib/systemd/system/groupd.service"
SITE = "/usr/share/doc/groupd/examples/nginx/groupd.conf"


def run(args, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(args, capture_output=True, text=True, **kw)


class PackageTest(unittest.TestCase):
    def setUp(self):
        self.assertEqual(os.getuid(), 0, "the package test installs with dpkg -i: run it as root")
        self.dir = tempfile.mkdtemp(prefix="groupd-pkg-")
        os.chmod(self.dir, 0o755)
        self.was_installed = run(["dpkg-query", "-W", "-f=${Status}", "groupd"]).stdout.startswith("install ok")
        self.pids = []

    def tearDown(self):
        for pid, sig in reversed(self.pids):
            stop_pid(pid, sig)
        if not self.was_installed:
            run(["dpkg", "--purge", "groupd"])
        shutil.rmtree(self.dir, ignore_errors=True)

    def build(self):
        src = os.path.join(self.dir, "groupd-src")
        files = run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
        for rel in filter(None, files.split("\0")):
            if os.path.isfile(os.path.join(ROOT, rel)):
                os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, rel), os.path.join(src, rel))
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2"), timeout=900)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        with open(os.path.join(src, "debian", "changelog")) as f:
            version = re.match(r"groupd \(([^)]+)\)", f.readline()).group(1)
        deb = os.path.join(self.dir, f"groupd_{version}_amd64.deb")
        self.assertTrue(os.path.exists(deb), os.listdir(self.dir))
        return deb, glob.glob(os.path.join(self.dir, "groupd_*_amd64.changes"))[0]

    def test_build_lint_install_and_serve(self):
        deb, changes = self.build()
        r = run(["lintian", "--fail-on", "error", changes], timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotRegex(r.stdout, r"(?m)^E: ")

        contents = run(["dpkg-deb", "-c", deb]).stdout
        for path in ("./usr/sbin/groupd", "./usr/sbin/groupctl", "./lib/systemd/system/groupd.service",
                     "./usr/share/man/man8/groupd.8.gz", "./usr/share/man/man8/groupctl.8.gz",
                     "./usr/share/groupd/docs/index.html", "./usr/share/groupd/docs/redoc.standalone.js",
                     "./usr/share/doc/groupd/examples/nginx/groupd.conf",
                     "./usr/share/doc/groupd/examples/apache/groupd.conf",
                     "./usr/share/doc/groupd/examples/apache/groupd.fcgi",
                     "./etc/groupd/groupd.conf", "./etc/groupd/groupd_fastcgi_params"):
            self.assertIn(" " + path + "\n", contents + "\n")

        r = run(["dpkg", "-i", deb])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        user = pwd.getpwnam("groupd")
        st = os.stat("/var/lib/groupd")
        self.assertEqual((st.st_uid, st.st_gid), (user.pw_uid, user.pw_gid))
        self.assertEqual(run(["/usr/sbin/groupd", "--version"]).returncode, 0)
        self.assertEqual(run(["man", "-w", "groupd"]).stdout.strip(), "/usr/share/man/man8/groupd.8.gz")

        # groupd as the unit starts it, as the groupd user; state and socket
        # directories here instead of /var/lib/groupd and /run/groupd.
        with open(UNIT) as f:
            unit = f.read()
        self.assertIn("User=groupd", unit)
        cmd = shlex.split(re.search(r"(?m)^ExecStart=(.*)$", unit).group(1))
        self.assertEqual(cmd[0], "/usr/sbin/groupd")
        state, runtime = os.path.join(self.dir, "state"), os.path.join(self.dir, "run")
        for d in (state, runtime):
            os.mkdir(d, 0o755)
            os.chown(d, user.pw_uid, user.pw_gid)
        sock = os.path.join(runtime, "groupd.sock")
        cmd = [a.replace("/var/lib/groupd", state).replace("/run/groupd/groupd.sock", sock) for a in cmd]
        as_groupd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
        key = run(as_groupd + ["/usr/sbin/groupctl", "--db", state, "key", "create", "--top-organisation",
                               "100", "--organisation", "101", "--role", "write"])
        self.assertEqual(key.returncode, 0, key.stderr)
        key = key.stdout.splitlines()[0]
        p = subprocess.Popen(as_groupd + cmd + ["--workers", "2"], stdin=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, "groupd.err"), "w"))
        self.pids.append((p.pid, signal.SIGTERM))
        self.assertTrue(wait_for(lambda: os.path.exists(sock), 10), open(os.path.join(self.dir, "groupd.err")).read())

        # nginx with the packaged site, on a free loopback port and this socket.
        port = free_port()
        with open(SITE) as f:
            site = f.read()
        self.assertIn("listen 80;", site)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("unix:/run/groupd/groupd.sock", "unix:" + sock)
        tmp = os.path.join(self.dir, "nginx-tmp")
        os.mkdir(tmp)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi; proxy_temp_path {tmp}/proxy;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
{site}
}}
""")
        r = run([NGINX, "-c", conf, "-p", self.dir])
        self.assertEqual(r.returncode, 0, r.stderr)
        pidfile = os.path.join(self.dir, "nginx.pid")
        self.assertTrue(wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip()))
        self.pids.append((int(open(pidfile).read()), signal.SIGQUIT))

        r = http_request(port, "POST", "/group", key, {"name": "Packaged", "externalId": "deb/1"})
        self.assertEqual(r.status, 200, r)
        r = http_request(port, "GET", "/group/deb%2F1", key)
        self.assertEqual((r.status, r.json["name"]), (200, "Packaged"))
        r = http_request(port, "GET", "/groupd/group/deb%2F1", key)  # the site's prefixed location
        self.assertEqual((r.status, r.json["externalId"]), (200, "deb/1"))
        r = http_request(port, "GET", "/docs/")
        self.assertEqual((r.status, r.header("content-type").split(";")[0]), (200, "text/html"))
        self.assertEqual(http_request(port, "GET", "/metrics").status, 200)  # from 127.0.0.1
        # The files belong to the groupd user, as the unit would leave them.
        self.assertEqual(os.stat(os.path.join(state, "data.mdb")).st_uid, user.pw_uid)


if __name__ == "__main__":
    unittest.main()
