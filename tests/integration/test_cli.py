"""The programs' own help: --help, --version and the man pages groupd(8), groupctl(8)."""
import os
import shutil
import re
import subprocess
import unittest

from harness import GROUPCTL, GROUPD, ROOT

MAN = os.path.join(ROOT, "docs", "man")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


class CliTest(unittest.TestCase):
    def test_version_and_help(self):
        for prog, name in ((GROUPD, "groupd"), (GROUPCTL, "groupctl")):
            r = run(prog, "--version")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, rf"^{name} \d+\.\d+\.\d+ \(database schema \d+\)\n$")
            r = run(prog, "--help")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("usage:", r.stdout)
            self.assertIn(f"{name}(8)", r.stdout)
        r = run(GROUPD, "--no-such-option")
        self.assertEqual(r.returncode, 2)
        r = run(GROUPCTL, "--db")
        self.assertEqual(r.returncode, 2)

    def test_man_pages_render_without_warnings(self):
        for page in ("groupd.8", "groupctl.8"):
            path = os.path.join(MAN, page)
            r = run("groff", "-mandoc", "-ww", "-z", path)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)
            r = subprocess.run(["man", "-l", path], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""})
            self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), page)
            self.assertIn("EXIT STATUS", r.stdout)

    def test_man_pages_name_every_option_and_command(self):
        with open(os.path.join(MAN, "groupd.8")) as f:
            groupd_page = f.read()
        options = set(re.findall(r"--([a-z-]+)", run(GROUPD, "--help").stdout))
        self.assertIn("changes-retain", options)
        for o in options:
            self.assertIn(f"Fl -{o}", groupd_page, o)
        for sig in ("SIGTERM", "SIGHUP", "SIGINT"):
            self.assertIn(sig, groupd_page)
        with open(os.path.join(MAN, "groupctl.8")) as f:
            groupctl_page = f.read()
        usage = run(GROUPCTL, "--help").stdout
        for command in re.findall(r"^  ([a-z-]+(?: [a-z]+)?)", usage, re.M):
            word = command.split()[0]
            self.assertIn(f"Cm {word}", groupctl_page, command)


class UnitTest(unittest.TestCase):
    """deploy/systemd/groupd.service: valid, and hardened (CI cannot boot systemd,
    so this checks the unit offline)."""

    def test_unit_verifies_and_is_hardened(self):
        import tempfile
        with open(os.path.join(ROOT, "deploy", "systemd", "groupd.service")) as f:
            unit = f.read().replace("/usr/local/bin/groupd", GROUPD)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "groupd.service")
            with open(path, "w") as f:
                f.write(unit)
            # verify runs man for the unit's Documentation= pages: these ones.
            man8 = os.path.join(d, "man", "man8")
            os.makedirs(man8)
            for page in ("groupd.8", "groupctl.8"):
                shutil.copy(os.path.join(ROOT, "docs", "man", page), man8)
            r = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                               text=True, timeout=60, cwd=d,
                               env=dict(os.environ, MANPATH=os.path.join(d, "man")))
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
            r = subprocess.run(["systemd-analyze", "security", "--offline=true", path],
                               capture_output=True, text=True, timeout=60, cwd=d)
            score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout).group(1))
            self.assertLessEqual(score, 2.0, r.stdout[-2000:])

    def test_the_nightly_oneroster_timer_verifies(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            man8 = os.path.join(d, "man", "man8")
            os.makedirs(man8)
            shutil.copy(os.path.join(ROOT, "docs", "man", "groupctl.8"), man8)
            paths = []
            for name in ("groupd-oneroster.service", "groupd-oneroster.timer"):
                shutil.copy(os.path.join(ROOT, "deploy", "systemd", name), d)
                paths.append(os.path.join(d, name))
            r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True,
                               text=True, timeout=60, cwd=d,
                               env=dict(os.environ, MANPATH=os.path.join(d, "man")))
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
            with open(paths[0]) as f:
                unit = f.read()
            # The key stays out of the command line; the export is posted as the API wants it.
            self.assertIn("--header @/etc/groupd/oneroster.header", unit)
            self.assertIn("/group/bulkImportOneRoster?", unit)
            self.assertIn("Content-Type: application/zip", unit)


if __name__ == "__main__":
    unittest.main()
