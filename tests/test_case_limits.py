"""Bad inputs of every size get a short, located answer: long strings and file names, absurdly large case
files, byte-order marks, a JSON report that cannot be written; through the API and `snsurrogate simulate` /
`snsurrogate stability` (``snsurrogate.cli.main``)."""

from __future__ import annotations

import errno
import json

import pytest

import fem.atomic
from snsurrogate.case import load_case
from snsurrogate.case.kinds import MAX_NAME, MAX_PATH
from snsurrogate.case.load import MAX_CASE_BYTES
from snsurrogate.cli import main
from snsurrogate.errors import CaseFileError

BAR = """[units]
length = "mm"
time = "s"
stress = "MPa"

[mesh]
generate = "line"
length = 10.0
divisions = 5

[material]
type = "linear"
E = 1000.0
density = 1.0e-9

[[boundary]]
name = "clamp"
type = "fixed"
nodes = { group = "left" }

[time]
end = 1.0e-4

[output]
frames = 2
progress = false
"""

MESH_FILE = """$MeshFormat
2.2 0 8
$EndMeshFormat
$Nodes
3
1 0 0 0
2 1 0 0
3 2 0 0
$EndNodes
$Elements
2
1 1 2 0 1 1 2
2 1 2 0 1 2 3
$EndElements
"""

BIG = 500_000  # a value under the 1 MiB case-file limit, far over every string limit
HUGE = 10 * 2**20  # 10 MiB


def _cli(capsys, tmp_path, command: str, text: str, name: str = "case.toml") -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    argv = ["stability", str(path), "--no-global"] if command == "stability" else \
        ["simulate", str(path), "--out", str(tmp_path / "out"), "--quiet"]
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _short(err: str, limit: int = 600) -> None:
    assert len(err) < limit, err[:limit]
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------- long strings
LONG_VALUES = {
    "[units] length": BAR.replace('length = "mm"', f'length = "{"m" * BIG}"'),
    "[[boundary]] #1": BAR.replace('name = "clamp"', f'name = "{"c" * BIG}"'),
    "[mesh] file": BAR.replace('generate = "line"\nlength = 10.0\ndivisions = 5', f'file = "{"a" * BIG}.msh"'),
    "[material] model": BAR.replace('type = "linear"\nE = 1000.0', f'model = "{"a" * BIG}.pt"'),
    "[[boundary]] #1 (clamp) nodes": BAR.replace('{ group = "left" }', f'{{ group = "{"g" * BIG}" }}'),
    "[mesh] generate": BAR.replace('generate = "line"', f'generate = "{"l" * BIG}"'),
}


@pytest.mark.parametrize("command", ["simulate", "stability"])
@pytest.mark.parametrize("where", list(LONG_VALUES))
def test_a_long_string_is_refused_naming_the_key_without_echoing_it(tmp_path, capsys, command, where):
    rc, out, err = _cli(capsys, tmp_path, command, LONG_VALUES[where])
    assert rc == 2 and out == ""
    _short(err)
    assert f"case.toml: {where}" in err, err[:300]
    assert "characters" in err


def test_a_long_unknown_key_and_section_are_clipped(tmp_path, capsys):
    rc, _, err = _cli(capsys, tmp_path, "simulate", BAR.replace("[time]\n", f"[time]\n{'k' * BIG} = 1\n"))
    assert rc == 2 and "[time] 'kkkk" in err and "unknown key" in err
    _short(err)
    rc, _, err = _cli(capsys, tmp_path, "simulate", BAR + f"\n[{'s' * BIG}]\n")
    assert rc == 2 and "unknown section" in err
    _short(err)


def test_ten_megabyte_values_through_a_dict_name_the_key(tmp_path):
    import tomllib

    raw = tomllib.loads(BAR)
    for section, key_ in (("units", "stress"), ("units", "mass")):
        bad = json.loads(json.dumps(raw))
        bad[section][key_] = "x" * HUGE
        with pytest.raises(CaseFileError) as info:
            load_case(bad)
        message = str(info.value)
        assert message.startswith(f"<case>: [{section}] {key_}: a name of {HUGE} characters") and len(message) < 300
    bad = json.loads(json.dumps(raw))
    bad["mesh"] = {"file": "m" * HUGE}
    with pytest.raises(CaseFileError, match=rf"\[mesh\] file: a path of {HUGE} characters") as info:
        load_case(bad)
    assert len(str(info.value)) < 300
    bad = json.loads(json.dumps(raw))
    bad["material"] = {"model": "p" * HUGE, "density": 1.0}
    with pytest.raises(CaseFileError, match=r"\[material\] model: a path of") as info:
        load_case(bad)
    assert len(str(info.value)) < 300
    bad = json.loads(json.dumps(raw))
    bad["boundary"][0]["name"] = "n" * HUGE
    with pytest.raises(CaseFileError, match=r"\[\[boundary\]\] #1 \('nnnn.*\) name: a name of") as info:
        load_case(bad)
    assert len(str(info.value)) < 400


def test_names_up_to_the_limit_are_accepted(tmp_path):
    import tomllib

    raw = tomllib.loads(BAR)
    raw["units"]["length"] = "L" * MAX_NAME
    raw["boundary"][0]["name"] = "n" * MAX_NAME
    case = load_case(raw)
    assert case.units.length == "L" * MAX_NAME
    raw["units"]["length"] = "L" * (MAX_NAME + 1)
    with pytest.raises(CaseFileError, match=rf"\[units\] length: a name of {MAX_NAME + 1} characters"):
        load_case(raw)


# ---------------------------------------------------------------------------------------------- file names
@pytest.mark.parametrize("command", ["simulate", "stability"])
def test_a_mesh_file_name_over_255_bytes_blames_mesh_file(tmp_path, capsys, command):
    text = BAR.replace('generate = "line"\nlength = 10.0\ndivisions = 5', f'file = "{"a" * 300}.msh"')
    rc, out, err = _cli(capsys, tmp_path, command, text)
    assert rc == 2
    _short(err)
    assert "case.toml: [mesh] file: a file or folder name of 304 bytes" in err and "at most 255 bytes" in err
    assert "output" not in err


@pytest.mark.parametrize("command", ["simulate", "stability"])
def test_a_model_file_name_over_255_bytes_blames_material_model(tmp_path, capsys, command):
    text = BAR.replace('type = "linear"\nE = 1000.0', f'model = "sub/{"a" * 300}.pt"')
    rc, _, err = _cli(capsys, tmp_path, command, text)
    assert rc == 2 and "case.toml: [material] model: a file or folder name of 303 bytes" in err
    _short(err)


def test_a_multibyte_name_is_counted_in_bytes(tmp_path):
    import tomllib

    raw = tomllib.loads(BAR)
    raw["mesh"] = {"file": "\u00e9" * 200 + ".msh"}  # 200 characters, 404 bytes in UTF-8
    with pytest.raises(CaseFileError, match=r"\[mesh\] file: a file or folder name of 404 bytes"):
        load_case(raw)


def test_a_mesh_file_name_at_the_limit_is_looked_up(tmp_path, capsys):
    name = "a" * 251 + ".msh"  # 255 bytes
    (tmp_path / name).write_text(MESH_FILE)
    text = BAR.replace('generate = "line"\nlength = 10.0\ndivisions = 5', f'file = "{name}"')
    text = text.replace('end = 1.0e-4', 'end = 1.0e-6').replace('{ group = "left" }', '{ x = 0.0 }')
    rc, out, err = _cli(capsys, tmp_path, "simulate", text)
    assert rc == 0, err


def test_a_path_over_the_path_limit(tmp_path):
    import tomllib

    raw = tomllib.loads(BAR)
    raw["mesh"] = {"file": "/".join(["d" * 200] * 25)}
    with pytest.raises(CaseFileError, match=rf"\[mesh\] file: a path of \d+ characters .*at most {MAX_PATH}"):
        load_case(raw)


def test_a_case_file_name_over_255_bytes(tmp_path, capsys):
    rc = main(["simulate", str(tmp_path / ("c" * 300 + ".toml")), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot read the case file: a file or folder name of 305 bytes" in err
    _short(err, 1000)  # the case file is named in full (under the 4096-character limit)
    rc = main(["stability", "c" * HUGE])
    err = capsys.readouterr().err
    assert rc == 2 and f"({HUGE} characters)" in err
    _short(err)


# ---------------------------------------------------------------------------------------------- case-file size
@pytest.mark.parametrize("command", ["simulate", "stability"])
def test_a_ten_megabyte_case_file_is_refused_before_parsing(tmp_path, capsys, command):
    text = BAR.replace('length = "mm"', f'length = "{"m" * HUGE}"')
    rc, out, err = _cli(capsys, tmp_path, command, text)
    assert rc == 2 and out == ""
    _short(err)
    assert "case.toml: the case file is" in err and f"at most {MAX_CASE_BYTES} bytes" in err


def test_a_case_file_just_under_the_limit_is_read(tmp_path):
    filler = "#" * (MAX_CASE_BYTES - len(BAR) - 10) + "\n"
    (tmp_path / "c.toml").write_text(filler + BAR)
    assert load_case(tmp_path / "c.toml").mesh.divisions == 5


# ---------------------------------------------------------------------------------------------- encodings
def test_a_utf8_byte_order_mark_is_read(tmp_path):
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + BAR.encode())
    assert load_case(tmp_path / "bom.toml").units.length == "mm"


@pytest.mark.parametrize("encoding, name", [("utf-16-le", "little-endian"), ("utf-16-be", "big-endian")])
def test_a_utf16_file_is_named_as_such(tmp_path, encoding, name):
    (tmp_path / "u16.toml").write_bytes(("\ufeff" + BAR).encode(encoding))
    with pytest.raises(CaseFileError, match=rf"u16.toml: the file is UTF-16 \({name}\) text .*save the case file "
                                            "as UTF-8"):
        load_case(tmp_path / "u16.toml")


def test_utf16_without_a_mark_and_latin1(tmp_path):
    (tmp_path / "u16.toml").write_bytes(BAR.encode("utf-16-le"))
    with pytest.raises(CaseFileError, match="NUL bytes.*save the case file as UTF-8"):
        load_case(tmp_path / "u16.toml")
    (tmp_path / "latin.toml").write_bytes(BAR.replace("clamp", "cl\u00e4mp").encode("latin-1"))
    with pytest.raises(CaseFileError, match=r"not UTF-8 text \(byte \d+\)"):
        load_case(tmp_path / "latin.toml")


# ---------------------------------------------------------------------------------------------- stability --json
def test_stability_json_on_a_full_disk_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "case.toml").write_text(BAR)

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fem.atomic, "write_text", full)
    target = tmp_path / "s.json"
    rc = main(["stability", str(tmp_path / "case.toml"), "--no-global", "--json", str(target)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip() == f"error: cannot write {target}: No space left on device"
    assert not target.exists()


def test_stability_json_into_a_missing_folder_is_atomic_and_written(tmp_path, capsys):
    (tmp_path / "case.toml").write_text(BAR)
    target = tmp_path / "new" / "s.json"
    assert main(["stability", str(tmp_path / "case.toml"), "--no-global", "--json", str(target)]) == 0
    assert json.loads(target.read_text())["case"].endswith("case.toml")
    assert [p.name for p in target.parent.iterdir()] == ["s.json"]  # no temporary file left
