"""The REST service: every task answers, bad requests get 4xx with a reason, concurrent requests share batches."""

from __future__ import annotations

import re
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="rnnlab serve needs fastapi (a core dependency; absent on some GPU images)")
from fastapi.testclient import TestClient
from safetensors.torch import load_file

from rnnlab.cli.serve import parse_models
from rnnlab.ie.extractor import extract
from rnnlab.serving import Limits, create_app, detect_task
from rnnlab.serving.batching import MicroBatcher
from rnnlab.tag.tagger import Tagger

AD = ("Vente Villa 4 pièces Nice (06000) Réf. 12390: Superbe villa moderne (190m²), 2 chambres, 3 salles de bain. "
      "Construite en 2005. 1 270 000 euros. Contactez Mimi LASOURIS 06.43.43.43.43")  # fmt: skip


@pytest.fixture(scope="module")
def client(model_dirs):
    app = create_app(model_dirs, limits=Limits(max_chars=2000, max_batch=8, max_csv_rows=500))
    with TestClient(app) as c:
        yield c


def test_detect_task(model_dirs):
    tasks = {name: detect_task(d) for name, d in model_dirs.items()}
    assert tasks == {"ner": "tagger", "sentiment": "classifier", "load": "forecaster", "ads": "extractor"}


def test_models_health_and_openapi(client):
    models = {m["name"]: m for m in client.get("/v1/models").json()}
    assert {n: m["task"] for n, m in models.items()} == {"ner": "tagger", "sentiment": "classifier",
                                                          "load": "forecaster", "ads": "extractor"}  # fmt: skip
    assert models["ner"]["metrics"]["train_sentences"] == 120 and models["ner"]["config"]["output"] == "crf"
    assert models["sentiment"]["config"]["labels"] == ["negative", "positive"]
    assert models["load"]["input"] == "csv" and models["load"]["metrics"]["epochs"] >= 1
    assert "price_eur" in models["ads"]["config"]["fields"]
    assert client.get("/v1/models/ner").json()["task"] == "tagger"
    assert client.get("/health").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert "/v1/models/{name}/predict" in schema["paths"] and "PredictRequest" in schema["components"]["schemas"]


def test_tagger_answers_like_the_library(client, model_dirs):
    text = "Maria Lopez flew from Madrid to Tokyo for Sony ."
    got = client.post("/v1/models/ner/predict", json={"text": text})
    assert got.status_code == 200
    body = got.json()
    assert body["task"] == "tagger" and len(body["results"]) == 1
    expected = Tagger.load(model_dirs["ner"]).predict(text)[0]["spans"]
    got_spans = body["results"][0]["spans"]
    assert [(s["type"], s["start"], s["end"]) for s in got_spans] == [
        (s["type"], s["start"], s["end"]) for s in expected
    ]
    assert [s["score"] for s in got_spans] == pytest.approx([s["score"] for s in expected], abs=1e-6)


def test_batches_keep_the_order(client):
    texts = ["Omar went to Lima .", "Sony hired Maria Lopez .", "Nothing here ."]
    batched = client.post("/v1/models/ner/predict", json={"texts": texts}).json()["results"]
    alone = [client.post("/v1/models/ner/predict", json={"text": t}).json()["results"][0] for t in texts]
    assert [r["text"] for r in batched] == texts
    assert [r["tags"] for r in batched] == [r["tags"] for r in alone]


def test_classifier_and_extractor(client):
    result = client.post("/v1/models/sentiment/predict", json={"text": "a wonderful film"}).json()["results"][0]
    assert set(result["probabilities"]) == {"negative", "positive"}
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(result["probabilities"], key=result["probabilities"].get)
    why = result["explanation"]  # a max-pooling model: each word's share of the pooled features
    assert why["tokens"] == ["a", "wonderful", "film"] and sum(why["weights"]) == pytest.approx(1.0, abs=1e-5)
    template = client.post("/v1/models/ads/predict", json={"text": AD}).json()["results"][0]["template"]
    assert template == extract(AD)
    assert template["price_eur"]["value"] == 1270000 and template["surface_m2"]["value"] == 190


def test_forecaster_reads_csv(client, series_csv):
    result = client.post("/v1/models/load/predict", json={"csv": series_csv}).json()["results"][0]
    assert result["targets"] == ["y"] and result["horizon"] == 6
    series = result["series"][0]
    assert len(series["forecast"]["y"]) == 6 and series["forecast"]["time"][0] == "2024-01-05 04:00:00"
    assert series["history"]["y"][-1] == pytest.approx(float(series_csv.strip().split(",")[-1]))


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/models/nope/predict", {"text": "x"}, 404, "no model 'nope'"),
        ("/v1/models/ner/predict", {"text": 5}, 422, "string"),
        ("/v1/models/ner/predict", {"txt": "x"}, 422, "txt"),
        ("/v1/models/ner/predict", {"text": "a", "texts": ["b"]}, 422, "exactly one"),
        ("/v1/models/ner/predict", {"texts": []}, 422, "empty"),
        ("/v1/models/ner/predict", {"text": "x" * 2001}, 413, "2001 characters"),
        ("/v1/models/ner/predict", {"texts": ["x"] * 9}, 413, "9 texts"),
        ("/v1/models/ner/predict", {"csv": "a,b\n1,2"}, 422, "exactly one"),
        ("/v1/models/load/predict", {"text": "x"}, 422, "csv"),
        ("/v1/models/load/predict", {"csv": "a,b\n1,2\n"}, 422, "not found"),
        ("/v1/models/load/predict", {"csv": "date,y\n" + "2024-01-01,1\n" * 501}, 413, "limit is 500"),
        ("/v1/models/load/predict", {"csv": "date,y\n2024-01-01 00:00,1\n2024-01-01 01:00,2\n"}, 422, "fewer rows"),
        ("/v1/models/load/predict", {"csv": ""}, 422, "cannot be read"),
    ],
)
def test_bad_requests_get_4xx_with_a_reason(client, path, body, status, says):
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.text


def test_bad_json_big_bodies_and_the_service_survives(client, model_dirs):
    before = load_file(model_dirs["ner"] / "model.safetensors")
    reference = client.post("/v1/models/ner/predict", json={"text": "Omar went to Lima ."}).json()["results"]
    bad = client.post("/v1/models/ner/predict", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422
    big = client.post("/v1/models/ner/predict", content=b"x" * 9_000_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    for text in ["", " ", "\x00\x01", "é" * 1999, "<script>alert(1)</script>"]:
        for name in ("ner", "sentiment", "ads"):
            wordless = name == "sentiment" and not text.strip()  # no label for no words: 422, named
            code = client.post(f"/v1/models/{name}/predict", json={"text": text}).status_code
            assert code == (422 if wordless else 200), (name, text)
    again = client.post("/v1/models/ner/predict", json={"text": "Omar went to Lima ."}).json()["results"]
    assert again == reference and client.get("/health").json()["status"] == "ok"
    after = load_file(model_dirs["ner"] / "model.safetensors")
    assert all((before[k] == after[k]).all() for k in before)


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing from a CDN
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "innerHTML" not in script.text  # user text only through textContent
    assert client.get("/static/style.css").status_code == 200


def test_micro_batcher_merges_and_isolates_failures():
    sizes = []

    def fn(items):
        sizes.append(len(items))
        time.sleep(0.02)
        if "bad" in items:
            raise ValueError("bad item")
        return [x.upper() for x in items]

    batcher = MicroBatcher(fn, max_items=16, max_wait_s=0.01)
    futures = [batcher.submit([f"t{i}", f"u{i}"]) for i in range(6)] + [batcher.submit(["bad"])]
    results = [f.result(timeout=5) for f in futures[:-1]]
    assert results == [[f"T{i}", f"U{i}"] for i in range(6)]
    with pytest.raises(ValueError, match="bad item"):
        futures[-1].result(timeout=5)
    assert max(sizes) > 2  # requests were merged
    threads = [threading.Thread(target=lambda: batcher.submit(["x"]).result(timeout=5)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()


def test_parse_models():
    assert parse_models(["a=dir1", "b-2=dir2"]) == {"a": "dir1", "b-2": "dir2"}
    for spec, says in [(["dir"], "NAME=DIR"), (["a b=d"], "letters"), (["a=x", "a=y"], "twice")]:
        with pytest.raises(ValueError, match=says):
            parse_models(spec)


@pytest.mark.parametrize(
    ("body", "message"),
    [('{"text": NaN}', "valid string"), ('{"text": Infinity}', "valid string"),
     ('{"text": "\\ud800"}', "lone surrogate"), ('{"texts": ["ok", "x \\udfff"]}', "text 2 holds a lone surrogate")],
)  # fmt: skip
def test_hostile_json_is_a_422_not_a_500(model_dirs, body, message):
    quiet = TestClient(create_app({"sentiment": model_dirs["sentiment"]}), raise_server_exceptions=False)
    got = quiet.post("/v1/models/sentiment/predict", content=body, headers={"content-type": "application/json"})
    assert got.status_code == 422, got.text
    assert message in got.text
