import subprocess
import sys

import pytest

from autoseq.cli import main


def test_help_does_not_import_tensorflow():
    code = ("import sys\nfrom autoseq.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit as e:\n    assert e.code == 0\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
            "import autoseq\nautoseq.SearchSpace\nassert 'tensorflow' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_spaces_lists_and_shows(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["spaces"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "default" in out and "fast" in out
    with pytest.raises(SystemExit):
        main(["spaces", "fast"])
    assert "cell:" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["search", "x.csv", "--target", "y", "--trails", "3"])
    assert exit_.value.code == 2
    assert "No such option" in capsys.readouterr().err
