"""Integration test: a full disk under a map larger than the file system.

The database lives on a small tmpfs (mounted here; the suite runs as root) while the map
is 1 GiB, so the data file is sparse and the disk fills long before the map does.
"""
import os
import subprocess
import unittest

from harness import Stack


class FullDiskTest(unittest.TestCase):
    def test_a_full_disk_is_503_nothing_acknowledged_is_lost_and_reads_go_on(self):
        s = Stack(workers=2, extra_args=["--map-size", str(1 << 30)])
        disk = os.path.join(s.dir, "disk")
        os.makedirs(disk)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", disk],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, "cannot mount a tmpfs: " + r.stderr)
        try:
            s.db = os.path.join(disk, "db")
            s.start()
            key = s.key(100, "admin")
            acked, refused = [], None
            text = "x" * 4000
            for i in range(20000):
                r = s.request("POST", "/group?organisation=1", key,
                              {"name": f"g{i}", "externalId": f"full-{i}", "description": text})
                if r.status != 200:
                    refused = r
                    break
                acked.append(r.json["id"])
            self.assertIsNotNone(refused, "the disk never filled")
            self.assertEqual(refused.status, 503, refused)
            self.assertEqual(refused.json["errorCode"], "unavailable")
            self.assertGreater(len(acked), 100)
            # Reads go on, on both workers.
            for gid in acked[:: max(1, len(acked) // 20)] + acked[-2:]:
                self.assertEqual(s.request("GET", f"/group/{gid}", key).status, 200)
            # The refused write changed nothing.
            self.assertEqual(s.request("GET", f"/group/full-{len(acked)}", key).status, 404)
            # Read-only groupctl commands need no free disk.
            r = s.groupctl("check", check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("groups_active", s.groupctl("stats").stdout)
            # A delete needs free blocks too (LMDB copies a page before it frees one):
            # 503, as docs/api.md tells the operator, and nothing changes.
            r = s.request("DELETE", f"/group/{acked[0]}?purge=true", key)
            self.assertEqual((r.status, r.json["errorCode"]), (503, "unavailable"), r)
            self.assertEqual(s.request("GET", f"/group/{acked[0]}", key).status, 200)
            # SIGHUP on a full disk: the new workers start and serve reads.
            import signal
            import time
            from harness import wait_for, workers
            old = set(workers(s.groupd.pid))
            s.groupd.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: len(set(workers(s.groupd.pid)) - old) == 2, 30))
            time.sleep(0.5)
            for _ in range(10):
                self.assertEqual(s.request("GET", f"/group/{acked[-1]}", key).status, 200)
            # Every acknowledged create is there after a restart.
            s.groupd.terminate()
            s.groupd.wait(timeout=30)
            s.start_groupd()
            listed = s.request("GET", "/group?limit=0&fields=id", key).json["results"]
            self.assertEqual(sorted(g["id"] for g in listed), sorted(acked))
        finally:
            s.stop()
            subprocess.run(["umount", "-l", disk], capture_output=True, timeout=30)


if __name__ == "__main__":
    unittest.main()
