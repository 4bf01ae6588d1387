"""Issue 22, the third round of probing (saved models): a tagger with NaN weights is refused at load like every
model; edited config.json / tagging.json values are a one-line error naming the file and the field, not a
TypeError or KeyError; export's --opset outside the supported range is refused up front, and a graph onnx or
onnxruntime refuses is one line naming the opset; the .onnx file follows the umask. Each fails without its fix."""

import json
import os
import shutil

import pytest
import torch
from cli_runner import refused
from safetensors.torch import load_file, save_file
from test_text_inputs import NER, lexicon_tagger

from rnnlab.errors import ModelFileError
from rnnlab.tag.tagger import Tagger


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    """A hand-built NER tagger (no training: instant and exact), saved as `tag fit` saves one."""
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tagger") / "model"
    lexicon_tagger(NER, chunked=True).save(directory)
    return directory


def copy(tagger_dir, tmp_path):
    folder = tmp_path / "edited"
    shutil.copytree(tagger_dir, folder)
    return folder


def edit_header(folder, change):
    header = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    change(header)
    (folder / "config.json").write_text(json.dumps(header), encoding="utf-8")


# --- P5: non-finite weights ------------------------------------------------------------------------
def test_a_tagger_with_a_nan_weight_is_refused_at_load(tagger_dir, tmp_path, monkeypatch, capsys):
    # before: rc 0, every tag B-LOC and "score": NaN (not JSON); evaluate printed metrics; serve answered 200
    folder = copy(tagger_dir, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    tensors["head.bias"][1] = float("nan")
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match=r"edited: the network holds 1 non-finite weight\(s\) \(NaN or inf\) in "
                                             r"\['head.bias'\]"):  # fmt: skip
        Tagger.load(folder)
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", folder, "Mary flew to Paris")
    assert f"error: {folder}: " in err and "['head.bias']" in err and "retrain it or restore a good copy" in err


def test_an_inf_weight_is_refused_by_every_loader(tagger_dir, tmp_path):
    from rnnlab import io
    from rnnlab.ie.extractor import Extractor

    folder = copy(tagger_dir, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    tensors["words.weight"][2, 0] = float("-inf")
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    for load in (io.load, Extractor.load):  # the one check in io.load: every task, the extractor's tagger too
        with pytest.raises(ModelFileError, match=r"non-finite weight\(s\) \(NaN or inf\) in \['words.weight'\]"):
            load(folder)


# --- P6: edited values in the model's files --------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("assets", 123, '"assets" must be a list, received 123'),
        ("assets", None, '"assets" must be a list, received null'),
        ("assets", "words", '"assets" must be a list, received "words"'),  # was read letter by letter
        ("kind", ["TaggerNet"], '"kind" must be a string, received ["TaggerNet"]'),
    ],
)
def test_an_edited_config_header_names_the_file_and_the_field(
    tagger_dir, tmp_path, monkeypatch, capsys, key, value, message
):
    # before: TypeError 'int' object is not iterable / unhashable type: 'list' (a traceback)
    folder = copy(tagger_dir, tmp_path)
    edit_header(folder, lambda h: h.__setitem__(key, value))
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", folder, "Mary")
    assert f"{folder / 'config.json'}: {message}" in err and "save the model again" in err


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["O", 1, None, "S-PER"], "received 1 among them"),
        (["O", "O", "B-PER", "B-LOC"], "one is listed twice"),
        ("OBB", "tag_names must be a list of tag names, received 'OBB'"),
    ],
    ids=["not-strings", "repeated", "a-string"],
)
def test_edited_tag_names_name_the_file_and_the_field(tagger_dir, tmp_path, monkeypatch, capsys, names, message):
    # before: TypeError from deep inside decoding; a string was taken as one tag per letter
    folder = copy(tagger_dir, tmp_path)
    edit_header(folder, lambda h: h["config"].__setitem__("tag_names", names))
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", folder, "Mary")
    assert str(folder / "config.json") in err and "tag_names must" in err and message in err


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, 'tagging.json lacks "scheme"'),
        ({"lowercase": True, "scheme": "BIOES"}, 'tagging.json lacks "input_scheme"'),
        ([], "tagging.json must hold a JSON object"),
        ({"lowercase": 1, "scheme": "BIOES", "input_scheme": None}, '"lowercase" must be true or false, received 1'),
        ({"lowercase": True, "scheme": "BILOU", "input_scheme": None}, "\"scheme\" must be one of ['IOB1', 'IOB2'"),
        ({"lowercase": True, "scheme": "IOB2", "input_scheme": 2}, '"input_scheme" must be a string or null'),
        ({"lowercase": True, "scheme": "IOB2", "input_scheme": "IOB2", "training": []}, '"training" must be an obj'),
    ],
)
def test_an_edited_tagging_file_names_the_file_and_the_field(
    tagger_dir, tmp_path, monkeypatch, capsys, settings, message
):
    # before: KeyError 'scheme' / KeyError 'input_scheme' / TypeError list indices must be integers
    folder = copy(tagger_dir, tmp_path)
    (folder / "tagging.json").write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ModelFileError, match="save the model again"):
        Tagger.load(folder)
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", folder, "Mary")
    assert str(folder / "tagging.json") in err and message in err


def test_an_edited_vocabulary_names_its_file(tagger_dir, tmp_path, monkeypatch, capsys):
    folder = copy(tagger_dir, tmp_path)
    (folder / "words.json").write_text('["mary", "paris"]', encoding="utf-8")  # was: no file named
    err = refused(monkeypatch, capsys, "tag", "predict", "--model", folder, "Mary")
    assert f"{folder / 'words.json'}: a vocabulary starts with" in err


# --- P7 and P8: export -----------------------------------------------------------------------------
@pytest.mark.parametrize("opset", [5, 7, 11, 0, -1, 99])
def test_an_unsupported_opset_is_refused_before_any_work(tagger_dir, tmp_path, monkeypatch, capsys, opset):
    # before: 5 was onnx's ValidationError traceback, 7 onnxruntime's Fail traceback
    pytest.importorskip("onnxruntime")
    err = refused(monkeypatch, capsys, "export", "--model", tagger_dir, "--out", tmp_path / "y.onnx", "--opset", opset)
    assert f"--opset {opset} is not supported: rnnlab exports at opsets 12 to " in err
    assert not list(tmp_path.iterdir())


def test_a_graph_onnxruntime_refuses_is_one_line_naming_the_opset(tagger_dir, tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    from rnnlab.export import to_onnx

    def refuse(path):  # what opset 7 gives a forecaster (a ConstantFill node)
        raise Fail(f"[ONNXRuntimeError] : 1 : FAIL : Load model from {path} failed:Fatal error: ai.onnx:ConstantFill")

    monkeypatch.setattr(to_onnx, "session", refuse)
    err = refused(monkeypatch, capsys, "export", "--model", tagger_dir, "--out", tmp_path / "y.onnx", "--opset", 13)
    assert "the ONNX graph of the tagger written at opset 13 is refused by onnxruntime (Fail: " in err
    assert "Load model from the graph failed" in err and not list(tmp_path.iterdir())


def test_a_graph_the_onnx_checker_refuses_is_one_line_naming_the_opset(tagger_dir, tmp_path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    import onnx

    def invalid(model):  # what opset 5 gives a forecaster: "Mismatched attribute type in '/net/Cast : to'"
        raise onnx.checker.ValidationError("Mismatched attribute type in '/net/Cast : to'")

    monkeypatch.setattr(onnx.checker, "check_model", invalid)
    err = refused(monkeypatch, capsys, "export", "--model", tagger_dir, "--out", tmp_path / "y.onnx")
    assert "written at opset 17 is refused by onnx (ValidationError: Mismatched attribute type" in err


@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["022", "027"])
def test_the_onnx_file_follows_the_umask(tagger_dir, tmp_path, umask):
    # before: always -rw------- (tempfile.mkstemp's mode, kept by os.replace)
    pytest.importorskip("onnxruntime")
    from rnnlab.export import export_onnx

    old = os.umask(umask)
    try:
        export_onnx(tagger_dir, tmp_path / "e.onnx")
    finally:
        os.umask(old)
    assert (tmp_path / "e.onnx").stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_out_that_is_a_directory_is_named_before_any_work(tagger_dir, tmp_path, monkeypatch, capsys):
    # before: "tmpXXXX.onnx: Is a directory" after the export, naming the temporary file
    pytest.importorskip("onnxruntime")
    (tmp_path / "folder").mkdir()
    err = refused(monkeypatch, capsys, "export", "--model", tagger_dir, "--out", tmp_path / "folder", "--overwrite")
    assert "is a directory; name the .onnx file" in err and "folder/model.onnx" in err
    assert not list((tmp_path / "folder").iterdir())
