"""Run a CTranslate2 Whisper model's weights in openai-whisper: the offline tiny.en for both backends.

Reads a CTranslate2 ``model.bin`` (binary format 6, ``WhisperSpec``, float16/float32 weights, as
written by ``ct2-transformers-converter``) and returns the same weights as an openai-whisper
``Whisper`` module. Writes nothing unless ``save_checkpoint`` is called (a ``.pt`` that
``whisper.load_model(path)`` loads). This is what makes ``--backend openai-whisper --model
tiny.en-offline`` work without internet, and lets the benchmark compare the two backends on
identical weights.
"""

import re
import struct
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from toolkit.utils.atomic import PathLike, atomic_path
from toolkit.utils.errors import ToolkitError

#: CTranslate2's DataType enum order (include/ctranslate2/types.h); bfloat16 has no numpy type.
_CT2_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)
_SUPPORTED_BINARY_VERSION = 6


def read_ct2_variables(model_dir: PathLike) -> Tuple[str, Dict[str, np.ndarray]]:
    """(spec name, variables by name) of ``model_dir/model.bin``; aliases resolved to their targets."""
    path = Path(model_dir) / "model.bin"
    if not path.is_file():
        raise ToolkitError(f"{path}: not found; give a CTranslate2 model directory (it holds model.bin)")
    data = path.read_bytes()
    offset = 0

    def unpack(fmt: str):
        nonlocal offset
        (value,) = struct.unpack_from("<" + fmt, data, offset)
        offset += struct.calcsize("<" + fmt)
        return value

    def string() -> str:
        nonlocal offset
        length = unpack("H")  # counts the trailing NUL
        value = data[offset: offset + length - 1].decode("utf-8")
        offset += length
        return value

    version = unpack("I")
    if version != _SUPPORTED_BINARY_VERSION:
        raise ToolkitError(f"{path}: CTranslate2 binary version {version}, this reader knows {_SUPPORTED_BINARY_VERSION}")
    spec = string()
    unpack("I")  # spec revision
    variables: Dict[str, np.ndarray] = {}
    for _ in range(unpack("I")):
        name = string()
        shape = tuple(unpack("I") for _ in range(unpack("B")))
        dtype_id = unpack("B")
        num_bytes = unpack("I")
        dtype = _CT2_DTYPES[dtype_id] if dtype_id < len(_CT2_DTYPES) else None
        if dtype is None:
            raise ToolkitError(f"{path}: variable {name} has CTranslate2 type id {dtype_id}, which this reader cannot convert")
        variables[name] = np.frombuffer(data, dtype=dtype, count=num_bytes // np.dtype(dtype).itemsize, offset=offset).reshape(shape)
        offset += num_bytes
    for _ in range(unpack("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return spec, variables


def _count_layers(variables: Dict[str, np.ndarray], prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return len({match.group(1) for match in map(pattern.match, variables) if match})


def openai_whisper_state(variables: Dict[str, np.ndarray]):
    """(ModelDimensions, state dict) of openai-whisper from a WhisperSpec's variables."""
    import torch
    from whisper.model import ModelDimensions

    if any(variables[name].dtype == np.int8 for name in variables if name.endswith("/weight")):
        raise ToolkitError("int8-quantised CTranslate2 weights cannot be converted; convert the model with float16 weights")

    def tensor(name: str) -> "torch.Tensor":
        return torch.from_numpy(variables[name].astype(np.float32))

    state: Dict[str, "torch.Tensor"] = {}

    def linear(target: str, source: str, bias: bool = True) -> None:
        state[f"{target}.weight"] = tensor(f"{source}/weight")
        if bias:
            state[f"{target}.bias"] = tensor(f"{source}/bias")

    def layer_norm(target: str, source: str) -> None:
        state[f"{target}.weight"] = tensor(f"{source}/gamma")
        state[f"{target}.bias"] = tensor(f"{source}/beta")

    def fused(source: str, parts: int):
        """CTranslate2 fuses the q/k/v projections into one matrix; openai-whisper keeps them apart."""
        return torch.chunk(tensor(f"{source}/weight"), parts), torch.chunk(tensor(f"{source}/bias"), parts)

    def self_attention(target: str, source: str) -> None:
        (q, k, v), (q_bias, _, v_bias) = fused(f"{source}/self_attention/linear_0", 3)
        # openai-whisper's key projection has no bias; the fused CTranslate2 bias holds zeros there.
        state.update({f"{target}.attn.query.weight": q, f"{target}.attn.query.bias": q_bias,
                      f"{target}.attn.key.weight": k,
                      f"{target}.attn.value.weight": v, f"{target}.attn.value.bias": v_bias})
        linear(f"{target}.attn.out", f"{source}/self_attention/linear_1")
        layer_norm(f"{target}.attn_ln", f"{source}/self_attention/layer_norm")

    n_audio_layer = _count_layers(variables, "encoder")
    n_text_layer = _count_layers(variables, "decoder")
    for index in range(n_audio_layer):
        source, target = f"encoder/layer_{index}", f"encoder.blocks.{index}"
        self_attention(target, source)
        linear(f"{target}.mlp.0", f"{source}/ffn/linear_0")
        linear(f"{target}.mlp.2", f"{source}/ffn/linear_1")
        layer_norm(f"{target}.mlp_ln", f"{source}/ffn/layer_norm")
    for index in range(n_text_layer):
        source, target = f"decoder/layer_{index}", f"decoder.blocks.{index}"
        self_attention(target, source)
        linear(f"{target}.cross_attn.query", f"{source}/attention/linear_0")
        (k, v), (_, v_bias) = fused(f"{source}/attention/linear_1", 2)
        state.update({f"{target}.cross_attn.key.weight": k,
                      f"{target}.cross_attn.value.weight": v, f"{target}.cross_attn.value.bias": v_bias})
        linear(f"{target}.cross_attn.out", f"{source}/attention/linear_2")
        layer_norm(f"{target}.cross_attn_ln", f"{source}/attention/layer_norm")
        linear(f"{target}.mlp.0", f"{source}/ffn/linear_0")
        linear(f"{target}.mlp.2", f"{source}/ffn/linear_1")
        layer_norm(f"{target}.mlp_ln", f"{source}/ffn/layer_norm")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    state["encoder.positional_embedding"] = tensor("encoder/position_encodings/encodings")
    layer_norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = tensor("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = tensor("decoder/position_encodings/encodings")
    layer_norm("decoder.ln", "decoder/layer_norm")

    n_audio_ctx, n_audio_state = variables["encoder/position_encodings/encodings"].shape
    n_text_ctx, n_text_state = variables["decoder/position_encodings/encodings"].shape
    dims = ModelDimensions(
        n_mels=variables["encoder/conv1/weight"].shape[1],
        n_audio_ctx=n_audio_ctx,
        n_audio_state=n_audio_state,
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=n_audio_layer,
        n_vocab=variables["decoder/embeddings/weight"].shape[0],
        n_text_ctx=n_text_ctx,
        n_text_state=n_text_state,
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=n_text_layer,
    )
    return dims, state


def load_ct2_as_openai_whisper(model_dir: PathLike, device="cpu"):
    """An openai-whisper ``Whisper`` module holding the weights of a CTranslate2 Whisper directory."""
    from whisper.model import Whisper

    spec, variables = read_ct2_variables(model_dir)
    if spec != "WhisperSpec":
        raise ToolkitError(f"{model_dir}: a CTranslate2 {spec}, not a Whisper model")
    dims, state = openai_whisper_state(variables)
    model = Whisper(dims)
    model.load_state_dict(state)
    return model.to(device)


def save_checkpoint(model_dir: PathLike, output: PathLike) -> Path:
    """Write the converted weights as a ``.pt`` checkpoint for ``whisper.load_model(output)``."""
    import torch

    spec, variables = read_ct2_variables(model_dir)
    if spec != "WhisperSpec":
        raise ToolkitError(f"{model_dir}: a CTranslate2 {spec}, not a Whisper model")
    dims, state = openai_whisper_state(variables)
    half = {name: value.half() for name, value in state.items()}  # openai-whisper ships float16 checkpoints too
    with atomic_path(output) as temporary:
        torch.save({"dims": dims.__dict__, "model_state_dict": half}, temporary)
    return Path(output)
