"""Issue 22, the third round of probing (saved models): a tagger with NaN weights is refused at load like every
model; edited config.json / tagging.json values are a one-line error naming the file and the field, not a
TypeError or KeyError; export's --opset outside the supported range is refused up front, and a graph onnx or
onnxruntime refuses is one line naming the opset; the .onnx file follows the umask. Each fails without its fix."""

import json
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
