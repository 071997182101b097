"""examples/gpt.py out of dagrad: ONNX (onnxruntime gives the same logits) and safetensors
(PyTorch's GPT of the same shape loads the file, and dagrad loads PyTorch's)."""
import numpy as np
import pytest

import nn
from test_gpt import gpt, torch_gpt  # noqa: F401  (gpt is the fixture importing examples/gpt.py)

CONFIG = dict(block_size=12, vocab_size=11, n_layer=2, n_head=2, n_embd=16)


def model_of(gpt, **options):
    nn.manual_seed(3)
    model = gpt.GPT(gpt.GPTConfig(**{**CONFIG, **options}))
    for p in model.parameters():  # gains and biases away from 1 and 0
        p.data += np.random.default_rng(p.size).standard_normal(p.shape).astype(p.dtype) * 0.05
    return model


def ids(batch, length, seed=0):
    return np.random.default_rng(seed).integers(0, CONFIG["vocab_size"], size=(batch, length))


@pytest.mark.parametrize("length", [1, 5, 12])
def test_onnxruntime_gives_the_same_logits_at_several_batch_sizes(gpt, tmp_path, length):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = model_of(gpt, bias=True)
    path = tmp_path / "gpt.onnx"
    nn.export_onnx(model, ids(2, length), path)
    session = ort.InferenceSession(str(path))
    for batch in (1, 3):
        x = ids(batch, length, seed=batch)
        out = session.run(None, {"input": x.astype(np.float32)})[0]
        np.testing.assert_allclose(out, model(x).data, rtol=1e-4, atol=1e-5)
    import onnx
    kinds = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"Gather", "LayerNormalization", "MatMul", "Softmax", "Where"} <= kinds


def test_one_file_at_the_full_context_serves_shorter_sequences_padded(gpt, tmp_path):
    # causal: the logits at the first T positions do not depend on what follows them
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = model_of(gpt, bias=True)
    nn.export_onnx(model, ids(2, CONFIG["block_size"]), tmp_path / "gpt.onnx")
    session = ort.InferenceSession(str(tmp_path / "gpt.onnx"))
    for batch, length in ((1, 3), (4, 7)):
        x = ids(batch, length, seed=length)
        padded = np.zeros((batch, CONFIG["block_size"]), dtype=np.float32)
        padded[:, :length] = x
        out = session.run(None, {"input": padded})[0][:, :length]
        np.testing.assert_allclose(out, model(x).data, rtol=1e-4, atol=1e-5)


def test_exact_gelu_and_no_bias_export_too(gpt, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = model_of(gpt, bias=False)
    for block in model.transformer["h"]:
        block.mlp.gelu = nn.GELU()
    nn.export_onnx(model, ids(2, 6), tmp_path / "gpt.onnx")
    out = ort.InferenceSession(str(tmp_path / "gpt.onnx")).run(None, {"input": ids(2, 6).astype(np.float32)})[0]
    np.testing.assert_allclose(out, model(ids(2, 6)).data, rtol=1e-4, atol=1e-5)


def test_safetensors_to_pytorch_and_back(gpt, tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ours = model_of(gpt, bias=True)
    nn.save(ours, tmp_path / "ours.safetensors")
    theirs = torch_gpt(gpt.GPTConfig(**CONFIG, bias=True))
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    x = ids(2, 12)
    expected = ours(x).data
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        theirs.lm_head.weight.mul_(1.5)  # the tied matrix changes in both places
    # PyTorch refuses to write two names of one tensor; the copies are equal, as in dagrad's own files
    safetensors_torch.save_file({k: v.clone() for k, v in theirs.state_dict().items()},
                                str(tmp_path / "theirs.safetensors"))
    back = model_of(gpt, bias=True)
    nn.load(back, tmp_path / "theirs.safetensors")
    np.testing.assert_allclose(back(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)

