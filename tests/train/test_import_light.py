"""Generation never pays for torch: the CLI root, the train package and the main job stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "trl", "peft")


def _heavy_modules_after(code: str) -> list[str]:
    probe = (
        code + "\nimport sys\nprint('HEAVY:' + ' '.join(m for m in " + repr(HEAVY) + " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.rsplit("HEAVY:", 1)[1].split()


def test_cli_root_and_train_modules_do_not_import_torch() -> None:
    code = (
        "import cogbeh.cli.main, cogbeh.cli.train, cogbeh.train\n"
        "import cogbeh.train.data, cogbeh.train.config, cogbeh.train.chat_template, cogbeh.train.sft\n"
        "import cogbeh.train.rl, cogbeh.train.evaluate, cogbeh.train.verl, cogbeh.train.tiny\n"
        "from click.testing import CliRunner\n"
        "from cogbeh.cli.main import cli\n"
        "assert CliRunner().invoke(cli, ['train', '--help']).exit_code == 0\n"
    )
    assert _heavy_modules_after(code) == []


def test_main_job_does_not_import_torch(tmp_path: Path) -> None:
    code = (
        "from cogbeh.cli.main import main\n"
        "try:\n"
        f"    main(['--behavior', 'all', '-n', '3', '--out', {str(tmp_path / 'run')!r}, '-q'])\n"
        "except SystemExit as stop:\n"
        "    assert stop.code == 0, stop.code\n"
    )
    assert _heavy_modules_after(code) == []
    assert (tmp_path / "run" / "records.jsonl").is_file()
