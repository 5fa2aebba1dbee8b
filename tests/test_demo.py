import subprocess
import sys


def test_demo_runs_end_to_end_offline(tmp_path):
    target = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "demo", "--dir", str(target)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # One stream, in order: `pwapply demo | less` shows each command with what it said.
    assert proc.stderr == ""
    out = proc.stdout
    assert "Applied 3 patches of series 1 v1" in out and "Applied 4 patches of series 2 v2" in out
    assert "-:  ------- > 4:" in out and "main: Initialise verbose" in out
    assert "v1 push refused: yes; v2 push accepted: yes" in out
    steps = out.split("\n$ ")
    said = {step.splitlines()[0].split("  ")[0]: step for step in steps[1:]}
    assert "superseded by v2" in said["git push origin pw/make-the-tool-sturdier-v1"]
    assert "SERIES" in said["pwapply list"] and "v2 (1 earlier)" in said["pwapply list"]
    # The headline, shown: a commit as applied, with its trailers.
    assert "Tested-by: Tom Tester <tom@example.org>\nLink: http://127.0.0.1:" in out
    # The life cycle: the tag that arrived, seen, added, and the acceptance to come.
    assert "added 4 review tags to 4 commits" in said["pwapply update"]
    assert "commit(s)" not in out
    assert "would mark 4 patches accepted" in said["pwapply accept -n"]
    log = subprocess.run(
        ["git", "log", "-1", "--format=%B", "pw/make-the-tool-sturdier-v2"],
        cwd=target / "project",
        capture_output=True,
        text=True,
    )
    assert "Acked-by: Ann Acker <ann@example.org>" in log.stdout

    # The example of its own help, run again: the directory is taken, said in one line.
    again = subprocess.run(
        [sys.executable, "-m", "pwapply", "demo", "--dir", str(target)], capture_output=True, text=True
    )
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        f"error: --dir {target}: a directory that is not empty (the demo builds its project there)",
        "hint: give a new or empty directory, e.g. pwapply demo --dir /tmp/pwdemo2, or none for a temporary one",
    ]


def test_demo_dir_that_is_a_file(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("mine\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "demo", "--dir", str(target)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: --dir {target}: not a directory")
    assert target.read_text() == "mine\n"


def test_help_version_and_hook_path_import_no_http_or_gitpython(repo):
    code = (
        "import sys\n"
        "from pwapply.cli.app import app\n"
        "for argv in (['--help'], ['--version'], ['check', 'HEAD~0..HEAD']):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print([m for m in ('httpx', 'httpcore', 'git', 'pydantic') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo.path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_pre_push_fast_path_does_not_load_typer(repo):
    code = (
        "import sys\n"
        "sys.argv = ['pwapply', 'check', '--pre-push', 'origin', 'url']\n"
        "from pwapply.main import main\n"
        "print('exit', main())\n"
        "print(sorted(m for m in ('typer', 'httpx', 'git') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo.path, input="", capture_output=True, text=True)
    assert proc.stdout.splitlines()[-2:] == ["exit 0", "[]"], proc.stdout + proc.stderr
