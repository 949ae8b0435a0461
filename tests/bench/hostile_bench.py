"""Hostile-input benchmark (issue 13), run by hand:

    python3 tests/bench/hostile_bench.py [--build DIR]

Talks FastCGI straight to one groupd worker (tests/integration/harness.py's client, no web
server in between, so no web server limit hides a cost) and times, for inputs of doubling
size, each input that used to cost super-linear work or memory, with the worker's peak
resident memory for that request (VmHWM, reset before it):
  - a CSV labels cell of k distinct labels (the limit is 50), one row, then 16 rows;
  - a JSON participants list of n equal entries (a repeat is a 400);
  - a JSON body of n empty objects in a member the group ignores;
  - the status parameter repeated n times.
Prints time and peak per size and the ratio of the largest to the smallest per unit of input
(about 1 when the work is linear). Only a unix socket; every loop is bounded.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    os.environ["GROUPD_BIN_DIR"] = os.path.join(os.path.abspath(a.build), "src")
    import harness
    s = harness.Stack(workers=1, max_body=64 << 20)
    s.start_groupd()
    try:
        key = s.key(100, "admin")
        pid = harness.children(s.groupd.pid)[0]

        def call(method, uri, body=b"", ctype=None):
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
            params = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "SCRIPT_NAME": "",
                      "QUERY_STRING": uri.partition("?")[2], "HTTP_API_KEY": key}
            if ctype:
                params["CONTENT_TYPE"] = ctype
            t0 = time.monotonic()
            status, _, out = harness.fcgi_request(s.sock, params, body, timeout=600)
            took = time.monotonic() - t0
            with open(f"/proc/{pid}/status") as f:
                hwm = int([l.split()[1] for l in f if l.startswith("VmHWM")][0])
            return status, took, hwm, out

        status, _, _, out = call("POST", "/group?organisation=1", b'{"name":"bench"}',
                                 "application/json")
        gid = int(out.split(b'"id":')[1].split(b",")[0])

        def series(name, sizes, make):
            print(name)
            rows = []
            for n in sizes:
                method, uri, body, ctype = make(n)
                status, took, hwm, out = call(method, uri, body, ctype)
                rows.append((n, len(body) or len(uri), took, hwm))
                print(f"  n={n:<8} input {rows[-1][1]:>10} B  status {status}  "
                      f"{took * 1e3:9.2f} ms  peak RSS {hwm} kB")
            (n0, b0, t0, _), (n1, b1, t1, _) = rows[0], rows[-1]
            print(f"  time per input byte, largest / smallest: {(t1 / b1) / (t0 / b0):.2f}")

        def labels(k, rows=1):
            cell = "|".join(f"{i:03x}"[-3:] + str(i // 4096) for i in range(k))
            csv = "groupId,email,labels\n" + "".join(
                f'{gid},l{r}@x.nl,"{cell}"\n' for r in range(rows))
            return "POST", "/group/bulkImportParticipants", csv.encode(), "text/csv"

        series("CSV labels cell of k distinct labels, one row", [2000, 4000, 8000, 16000],
               lambda k: labels(k))
        series("CSV labels, 16 rows of k labels", [2000, 4000, 8000, 16000],
               lambda k: labels(k, 16))
        series("JSON participants list of n equal entries", [10000, 20000, 40000],
               lambda n: ("POST", f"/group/{gid}",
                          b'{"participants":[' + b",".join([b'{"email":"a@x.nl"}'] * n) + b"]}",
                          "application/json"))
        series("JSON body of n empty objects in an ignored member",
               [12500, 25000, 50000, 99000, 400000, 4000000],
               lambda n: ("POST", f"/group/{gid}",
                          b'{"junk":[' + b",".join([b"{}"] * n) + b'],"name":"x"}',
                          "application/json"))
        series("status repeated n times", [64, 128, 250, 1000, 8000],
               lambda n: ("GET", "/group?" + "&".join(["status=active"] * n), b"", None))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
