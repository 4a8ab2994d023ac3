#!/usr/bin/env python3
"""Writes a sparse mmproj GGUF for one vision-tower preset: the tensor names, shapes and types
and the clip.* keys the pinned llama.cpp tools/mtmd/clip.cpp loader reads (clip-impl.h TN_* /
KEY_*), with every tensor's data left as a hole (zeros). Enough for clip_init's warm-up, which
only sizes buffers. No numpy; GGUF v3 written by hand.

Usage: make_mmproj.py PRESET OUT.gguf        presets: see PRESETS below
"""
import json
import struct
import sys

F32, F16 = 0, 1
T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9
ALIGN = 32


def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, val):
    out = s(key) + struct.pack("<I", typ)
    if typ == T_U32:
        out += struct.pack("<I", val)
    elif typ == T_I32:
        out += struct.pack("<i", val)
    elif typ == T_F32:
        out += struct.pack("<f", val)
    elif typ == T_BOOL:
        out += struct.pack("<B", 1 if val else 0)
    elif typ == T_STRING:
        out += s(val)
    elif typ == T_ARRAY:
        etyp, items = val
        out += struct.pack("<IQ", etyp, len(items))
        for it in items:
            out += struct.pack("<f", it) if etyp == T_F32 else struct.pack("<I", it)
    return out


def vit(t, n_layer, n_embd, n_ff, patch, n_pos, *, qkv_bias=True, class_embd=False,
        pre_ln=False, post_ln=True, patch_bias=True, embd_type=F16):
    """A standard ViT's tensors (ggml ne order: fastest dimension first)."""
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], embd_type)
    if patch_bias:
        t("v.patch_embd.bias", [n_embd], F32)
    if class_embd:
        t("v.class_embd", [n_embd], F32)
    t("v.position_embd.weight", [n_embd, n_pos], embd_type)
    if pre_ln:
        t("v.pre_ln.weight", [n_embd], F32)
        t("v.pre_ln.bias", [n_embd], F32)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            if qkv_bias or name == "attn_out":
                t(p + name + ".bias", [n_embd], F32)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    if post_ln:
        t("v.post_ln.weight", [n_embd], F32)
        t("v.post_ln.bias", [n_embd], F32)


SIGLIP_NORM = ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
CLIP_NORM = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
IMAGENET_NORM = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def vision_keys(k, ptype, *, n_embd, n_ff, n_layer, proj, n_head, eps, image, patch, norm,
                flags=(), middle=()):
    """The clip.* keys every converter writes, in the order they write them: the projector
    type, `flags` (key, type, value), the tower's shape, `middle`, the image size, patch and
    normalization."""
    k("clip.projector_type", T_STRING, ptype)
    k("clip.has_vision_encoder", T_BOOL, True)
    for key, typ, val in flags:
        k(key, typ, val)
    k("clip.vision.embedding_length", T_U32, n_embd)
    k("clip.vision.feed_forward_length", T_U32, n_ff)
    k("clip.vision.block_count", T_U32, n_layer)
    k("clip.vision.projection_dim", T_U32, proj)
    k("clip.vision.attention.head_count", T_U32, n_head)
    k("clip.vision.attention.layer_norm_epsilon", T_F32, eps)
    for key, typ, val in middle:
        k(key, typ, val)
    k("clip.vision.image_size", T_U32, image)
    k("clip.vision.patch_size", T_U32, patch)
    k("clip.vision.image_mean", T_ARRAY, (T_F32, norm[0]))
    k("clip.vision.image_std", T_ARRAY, (T_F32, norm[1]))


def qwen_keys(k, ptype, n_embd, n_ff, n_layer, n_head, patch, image, text_embd):
    vision_keys(k, ptype, n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-6, image=image, patch=patch, norm=CLIP_NORM)


def gemma3(t, k, text_embd, n_embd=1152, n_ff=4304, n_layer=27, n_head=16, patch=14, image=896,
           merge=4):
    # SigLIP So400m/14 at 896 px (gemma3 4b/12b/27b): clip.cpp PROJECTOR_TYPE_GEMMA3,
    # models/siglip.cpp; mm.input_projection ne = [text_embd, 1152].
    SHAPE.update(kind="gemma3", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=merge, out=text_embd)
    vit(t, n_layer, n_embd, n_ff, patch, (image // patch) ** 2)
    t("mm.input_projection.weight", [text_embd, n_embd], F16)
    t("mm.soft_emb_norm.weight", [n_embd], F32)
    vision_keys(k, "gemma3", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-6, image=image, patch=patch, norm=SIGLIP_NORM,
                flags=[("clip.use_gelu", T_BOOL, True)],
                middle=[("clip.vision.projector.scale_factor", T_U32, merge)] if merge != 4 else [])


def idefics3(t, k, text_embd, n_embd=768, n_ff=3072, n_layer=12, n_head=12, patch=16, image=512,
             merge=4):
    # SmolVLM / Idefics3 as the pinned convert_hf_to_gguf.py writes it (conversion/smolvlm.py,
    # SmolVLMModel): a SigLIP tower with the patch embedding and positions F32
    # (tensor_force_quant: ".embeddings."), LayerNorms, biased Q/K/V and FFN, post-LN; the
    # connector's pixel shuffle (clip.vision.projector.scale_factor) and its projection
    # mm.model.fc (no bias); clip.use_gelu, the preprocessor's longest edge. clip.cpp,
    # PROJECTOR_TYPE_IDEFICS3: warm-up at the tower's image_size; models/siglip.cpp.
    SHAPE.update(kind="idefics3", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=merge, out=text_embd)
    vit(t, n_layer, n_embd, n_ff, patch, (image // patch) ** 2, embd_type=F32)
    t("mm.model.fc.weight", [n_embd * merge * merge, text_embd], F16)
    vision_keys(k, "idefics3", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-6, image=image, patch=patch, norm=SIGLIP_NORM,
                flags=[("clip.use_gelu", T_BOOL, True)],
                middle=[("clip.vision.projector.scale_factor", T_U32, merge),
                        ("clip.vision.preproc_image_size", T_U32, image * 4)])


def internvl(t, k, text_embd, n_embd=1024, n_ff=4096, n_layer=24, n_head=16, patch=14,
             image=448, merge=2, rms=False):
    # InternVL 2.5 / 3 as the pinned convert_hf_to_gguf.py writes it (conversion/internvl.py,
    # InternVisionModel): InternViT with a patch bias, a class embedding, F32 positions
    # (n_patches + 1), no pre- or post-LN, Q/K/V split from the fused qkv (biased in the 300M
    # ViT; the 6B ViT has no biases but q/k norms over the full width and RMS norms), layer
    # scales ls1 / ls2, a GELU FFN; mlp1 as mm.model.mlp.0 (LayerNorm over merge^2 patches),
    # .1 and .3; clip.use_gelu and projector.scale_factor (1 / downsample_ratio). clip.cpp,
    # PROJECTOR_TYPE_INTERNVL: warm-up at the tower's image_size; models/internvl.cpp.
    SHAPE.update(kind="internvl", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=merge, out=text_embd)
    n_pos = (image // patch) ** 2 + 1
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], F16)
    t("v.patch_embd.bias", [n_embd], F32)
    t("v.class_embd", [n_embd], F32)
    t("v.position_embd.weight", [n_embd, n_pos], F32)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            if not rms or name == "attn_out":
                t(p + name + ".bias", [n_embd], F32)
        if rms:
            t(p + "attn_q_norm.weight", [n_embd], F32)
            t(p + "attn_k_norm.weight", [n_embd], F32)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
            if not rms:
                t(p + name + ".bias", [n_embd], F32)
        t(p + "ls1.weight", [n_embd], F32)
        t(p + "ls2.weight", [n_embd], F32)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    wide = n_embd * merge * merge
    t("mm.model.mlp.0.weight", [wide], F32)
    t("mm.model.mlp.0.bias", [wide], F32)
    t("mm.model.mlp.1.weight", [wide, text_embd], F16)
    t("mm.model.mlp.1.bias", [text_embd], F32)
    t("mm.model.mlp.3.weight", [text_embd, text_embd], F16)
    t("mm.model.mlp.3.bias", [text_embd], F32)
    vision_keys(k, "internvl", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-6, image=image, patch=patch, norm=IMAGENET_NORM,
                flags=[("clip.use_gelu", T_BOOL, True)],
                middle=[("clip.vision.projector.scale_factor", T_U32, merge)])


def llava(t, k, text_embd, n_embd=1024, n_ff=4096, n_layer=23, n_head=16, patch=14, image=336):
    # CLIP ViT-L/14 at 336 px as llama.cpp's llava converter writes it: 23 of 24 blocks
    # (the last is dropped), class embedding, pre-LN, no post-LN, no patch bias, MLP projector
    # mm.0 / mm.2 (clip.cpp PROJECTOR_TYPE_MLP, models/llava.cpp).
    SHAPE.update(kind="mlp", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=4, out=text_embd)
    vit(t, n_layer, n_embd, n_ff, patch, (image // patch) ** 2 + 1, class_embd=True,
        pre_ln=True, post_ln=False, patch_bias=False)
    t("mm.0.weight", [n_embd, text_embd], F16)
    t("mm.0.bias", [text_embd], F32)
    t("mm.2.weight", [text_embd, text_embd], F16)
    t("mm.2.bias", [text_embd], F32)
    vision_keys(k, "mlp", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=768, n_head=n_head,
                eps=1e-5, image=image, patch=patch, norm=CLIP_NORM,
                flags=[("clip.use_gelu", T_BOOL, False)])


def pixtral(t, k, text_embd, n_embd=1024, n_ff=4096, n_layer=24, n_head=16, patch=14,
            image=1540, merge=2, proj_bias=False):
    # Pixtral's ViT as the pinned convert_hf_to_gguf.py writes it (conversion/llava.py,
    # LlavaVisionModel): RMS norms without bias, Q/K/V/out without bias, SwiGLU FFN
    # (clip.use_silu), no learned positions (2D RoPE), pre-LN; for Mistral Small 3.1/3.2
    # (merge > 1) the patch merger mm.input_norm + mm.patch_merger; the projector mm.1 / mm.2
    # and the [IMG_BREAK] row of the text embeddings (clip.cpp PROJECTOR_TYPE_PIXTRAL,
    # models/pixtral.cpp).
    SHAPE.update(kind="pixtral", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=merge, out=text_embd)
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], F16)
    t("v.pre_ln.weight", [n_embd], F32)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
        t(p + "ffn_gate.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
    if merge > 1:
        t("mm.input_norm.weight", [n_embd], F32)
        t("mm.patch_merger.weight", [n_embd * merge * merge, n_embd], F16)
    t("mm.1.weight", [n_embd, text_embd], F16)
    if proj_bias:
        t("mm.1.bias", [text_embd], F32)
    t("mm.2.weight", [text_embd, text_embd], F16)
    if proj_bias:
        t("mm.2.bias", [text_embd], F32)
    t("v.token_embd.img_break", [text_embd], F32)
    vision_keys(k, "pixtral", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-5, image=image, patch=patch, norm=CLIP_NORM,
                flags=[("clip.use_silu", T_BOOL, True)],
                middle=[("clip.vision.spatial_merge_size", T_U32, merge)] if merge > 1 else [])


def minicpmv(t, k, text_embd, n_embd=1152, n_ff=4304, n_layer=27, n_head=16, patch=14,
             image=448, n_pos=4900, queries=64, version=3):
    # MiniCPM-V 2.6 as the pinned legacy-models/minicpmv-convert-image-encoder-to-gguf.py
    # writes it (version 3): SigLIP-400M with its 4900 learned positions (70 x 70), patch
    # bias, post-LN, all 27 blocks; the resampler (one cross-attention of `queries` learned
    # queries over the patches, 128-wide heads, sin-cos key positions) to the text width
    # (clip.cpp PROJECTOR_TYPE_MINICPMV, models/minicpmv.cpp).
    SHAPE.update(kind="resampler", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=4, queries=queries, out=text_embd)
    vit(t, n_layer, n_embd, n_ff, patch, n_pos)
    t("resampler.query", [text_embd, queries], F32)
    t("resampler.kv.weight", [n_embd, text_embd], F16)
    for name in ("q", "k", "v", "out"):
        t(f"resampler.attn.{name}.weight", [text_embd, text_embd], F16)
        t(f"resampler.attn.{name}.bias", [text_embd], F32)
    for name in ("q", "kv", "post"):
        t(f"resampler.ln_{name}.weight", [text_embd], F32)
        t(f"resampler.ln_{name}.bias", [text_embd], F32)
    t("resampler.proj.weight", [text_embd, text_embd], F16)
    t("resampler.pos_embed_k", [text_embd, n_pos], F32)
    vision_keys(k, "resampler", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=0,
                n_head=n_head, eps=1e-6, image=image, patch=patch, norm=SIGLIP_NORM,
                flags=[("clip.has_minicpmv_projector", T_BOOL, True),
                       ("clip.minicpmv_version", T_I32, version),
                       ("clip.minicpmv_query_num", T_U32, queries),
                       ("clip.use_gelu", T_BOOL, True)])


def qwen25vl(t, k, text_embd, n_embd=1280, n_ff=3420, n_layer=32, n_head=16, patch=14,
             wa_pattern=8, patch_type=F16):
    # Qwen2.5-VL's ViT as convert_hf_to_gguf.py (conversion/qwenvl.py, Qwen2VLVisionModel)
    # writes it: the temporal patch conv split in two 2-D kernels (no bias), Q/K/V split from
    # the fused qkv (with biases), RMS norms without bias, a gated SiLU FFN with biases, the
    # merger's ln_q as v.post_ln, its MLP as mm.0 / mm.2; clip.use_silu and
    # clip.vision.n_wa_pattern (fullatt_block_indexes[0] + 1). No spatial_merge_size key (2).
    # clip.cpp: warm-up at 46 x 46 merged tokens (46 * 14 * 2 = 1288 px); models/qwen2vl.cpp.
    side = 46 * patch * 2
    SHAPE.update(kind="qwen2.5vl_merger", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=side, merge=2, out=text_embd, window=wa_pattern)
    if patch_type != F16:
        SHAPE.update(patch_f32=True)
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], patch_type)
    t("v.patch_embd.weight.1", [patch, patch, 3, n_embd], patch_type)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ln1.weight", [n_embd], F32)
        t(p + "ln2.weight", [n_embd], F32)
        for name in ("ffn_gate", "ffn_up"):
            t(p + name + ".weight", [n_embd, n_ff], F16)
            t(p + name + ".bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    t("v.post_ln.weight", [n_embd], F32)
    t("mm.0.weight", [4 * n_embd, 4 * n_embd], F16)
    t("mm.0.bias", [4 * n_embd], F32)
    t("mm.2.weight", [4 * n_embd, text_embd], F16)
    t("mm.2.bias", [text_embd], F32)
    qwen_keys(k, "qwen2.5vl_merger", n_embd, n_ff, n_layer, n_head, patch, 560, text_embd)
    k("clip.use_silu", T_BOOL, True)
    if wa_pattern:
        k("clip.vision.n_wa_pattern", T_U32, wa_pattern)


def qwen2vl(t, k, text_embd, n_embd=1280, mlp_ratio=4, n_layer=32, n_head=16, patch=14):
    # Qwen2-VL's ViT as convert_hf_to_gguf.py (conversion/qwenvl.py, Qwen2VLVisionModel) writes
    # it: the temporal patch conv split in two 2-D kernels (no bias), Q/K/V split from the fused
    # qkv (with biases), LayerNorms with bias, an FFN without gate (fc1 / fc2, n_embd * mlp_ratio
    # wide, with biases), the merger's ln_q as v.post_ln (with bias), its MLP as mm.0 / mm.2; no
    # clip.use_gelu / use_silu (clip.cpp: FFN_GELU_QUICK), no n_wa_pattern, no
    # spatial_merge_size (2), image_size 560 (the converter's default). The converter writes
    # vision_config's hidden_size (the text width) as clip.vision.feed_forward_length (it maps
    # intermediate_size to it when the config has embed_dim); the graph takes the FFN's width
    # from the tensors. clip.cpp: warm-up at 46 x 46 merged tokens (1288 px).
    side = 46 * patch * 2
    n_ff = n_embd * mlp_ratio
    SHAPE.update(kind="qwen2vl_merger", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=side, merge=2, out=text_embd)
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], F16)
    t("v.patch_embd.weight.1", [patch, patch, 3, n_embd], F16)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            t(p + name + ".bias", [n_embd], F32)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    t("v.post_ln.weight", [n_embd], F32)
    t("v.post_ln.bias", [n_embd], F32)
    t("mm.0.weight", [4 * n_embd, 4 * n_embd], F16)
    t("mm.0.bias", [4 * n_embd], F32)
    t("mm.2.weight", [4 * n_embd, text_embd], F16)
    t("mm.2.bias", [text_embd], F32)
    qwen_keys(k, "qwen2vl_merger", n_embd, text_embd, n_layer, n_head, patch, 560, text_embd)


def qwen3vl(t, k, text_embd, n_embd=1152, n_ff=4304, n_layer=27, n_head=16, patch=16,
            deepstack=(8, 16, 24), n_pos=2304, patch_type=F16):
    # Qwen3-VL's ViT as conversion/qwen3vl.py (Qwen3VLVisionModel) writes it: the temporal
    # patch conv split in two 2-D kernels plus v.patch_embd.bias, learned positions (F32,
    # num_position_embeddings of them), a fused biased attn_qkv, LayerNorms, a GELU FFN with
    # biases, the merger (v.post_ln, mm.0, mm.2) and one DeepStack merger per
    # deepstack_visual_indexes entry (v.deepstack.IL.norm/fc1/fc2, the norm 4 x n_embd wide).
    # clip.cpp: warm-up at 46 x 46 merged tokens (46 * 16 * 2 = 1472 px); models/qwen3vl.cpp.
    side = 46 * patch * 2
    pos_side = int(round(n_pos ** 0.5))
    SHAPE.update(kind="qwen3vl_merger", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=side, merge=2, out=text_embd, deepstack=list(deepstack),
                 positions=pos_side)
    if patch_type != F16:
        SHAPE.update(patch_f32=True)
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], patch_type)
    t("v.patch_embd.weight.1", [patch, patch, 3, n_embd], patch_type)
    t("v.patch_embd.bias", [n_embd], F32)
    t("v.position_embd.weight", [n_embd, n_pos], F32)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        t(p + "attn_qkv.weight", [n_embd, 3 * n_embd], F16)
        t(p + "attn_qkv.bias", [3 * n_embd], F32)
        t(p + "attn_out.weight", [n_embd, n_embd], F16)
        t(p + "attn_out.bias", [n_embd], F32)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    for il in deepstack:
        p = f"v.deepstack.{il}."
        t(p + "norm.weight", [4 * n_embd], F32)
        t(p + "norm.bias", [4 * n_embd], F32)
        t(p + "fc1.weight", [4 * n_embd, 4 * n_embd], F16)
        t(p + "fc1.bias", [4 * n_embd], F32)
        t(p + "fc2.weight", [4 * n_embd, text_embd], F16)
        t(p + "fc2.bias", [text_embd], F32)
    t("v.post_ln.weight", [n_embd], F32)
    t("v.post_ln.bias", [n_embd], F32)
    t("mm.0.weight", [4 * n_embd, 4 * n_embd], F16)
    t("mm.0.bias", [4 * n_embd], F32)
    t("mm.2.weight", [4 * n_embd, text_embd], F16)
    t("mm.2.bias", [text_embd], F32)
    qwen_keys(k, "qwen3vl_merger", n_embd, n_ff, n_layer, n_head, patch, pos_side * patch,
              text_embd)
    k("clip.use_gelu", T_BOOL, True)
    k("clip.vision.spatial_merge_size", T_U32, 2)


def llama4(t, k, text_embd, n_embd=1408, n_ff=5632, n_layer=34, n_head=16, patch=14, image=336,
           merge=2, adapter=4096):
    # Llama 4's vision tower as the pinned convert_hf_to_gguf.py writes it (conversion/llama4.py,
    # Llama4VisionModel): the unfold convolution as a linear patch embedding (2-D,
    # [3 * patch * patch, n_embd], F16 by MmprojModel.tensor_force_quant), a class embedding,
    # learned positions (F32: V_ENC_EMBD_POS), pre- and post-LN, biased Q/K/V/out and FFN,
    # LayerNorms; the pixel-shuffle MLP mm.model.mlp.1 / .2 (no biases, projector_input_dim =
    # projector_output_dim = `adapter`) and the projector mm.model.fc to the text width;
    # clip.vision.projector.scale_factor = 1 / pixel_shuffle_ratio (clip.cpp
    # PROJECTOR_TYPE_LLAMA4, models/llama4.cpp: warm-up at image_size).
    SHAPE.update(kind="llama4", layers=n_layer, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=merge, adapter=adapter, out=text_embd)
    t("v.patch_embd.weight", [3 * patch * patch, n_embd], F16)
    t("v.class_embd", [n_embd], F32)
    t("v.position_embd.weight", [n_embd, (image // patch) ** 2 + 1], F32)
    for name in ("pre_ln", "post_ln"):
        t(f"v.{name}.weight", [n_embd], F32)
        t(f"v.{name}.bias", [n_embd], F32)
    for il in range(n_layer):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            t(p + name + ".bias", [n_embd], F32)
        for name in ("ln1", "ln2"):
            t(p + name + ".weight", [n_embd], F32)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ffn_up.weight", [n_embd, n_ff], F16)
        t(p + "ffn_up.bias", [n_ff], F32)
        t(p + "ffn_down.weight", [n_ff, n_embd], F16)
        t(p + "ffn_down.bias", [n_embd], F32)
    t("mm.model.mlp.1.weight", [n_embd * merge * merge, adapter], F16)
    t("mm.model.mlp.2.weight", [adapter, adapter], F16)
    t("mm.model.fc.weight", [adapter, text_embd], F16)
    vision_keys(k, "llama4", n_embd=n_embd, n_ff=n_ff, n_layer=n_layer, proj=text_embd,
                n_head=n_head, eps=1e-5, image=image, patch=patch, norm=SIGLIP_NORM,
                flags=[("clip.use_gelu", T_BOOL, True)],
                middle=[("clip.vision.projector.scale_factor", T_U32, merge)])


def moondream(t, k, text_embd, n_embd=1152, n_ff=4304, n_layer=27, n_head=16, patch=14,
              image=378, adapter=8192):
    # moondream2 as vikhyat/moondream create_gguf.py @bdefcdd2 writes its mmproj: projector
    # type "mlp" with a SigLIP tower (no class embedding, no pre-LN, a patch bias, F16
    # positions, post-LN), the last block written twice (block_count n_layer + 1: llava.cpp
    # runs all but the last), ffn_up / ffn_down named the other way round (clip.cpp swaps
    # them back: is_ffn_swapped), and the MLP mm.0 / mm.2 with biases, `adapter` wide.
    SHAPE.update(kind="mlp_siglip", layers=n_layer + 1, width=n_embd, ffn=n_ff, heads=n_head,
                 patch=patch, image=image, merge=4, adapter=adapter, out=text_embd)
    t("mm.0.weight", [n_embd, adapter], F16)
    t("mm.0.bias", [adapter], F32)
    t("mm.2.weight", [adapter, text_embd], F16)
    t("mm.2.bias", [text_embd], F32)
    t("v.position_embd.weight", [n_embd, (image // patch) ** 2], F16)
    t("v.patch_embd.weight", [patch, patch, 3, n_embd], F16)
    t("v.patch_embd.bias", [n_embd], F32)
    t("v.post_ln.weight", [n_embd], F32)
    t("v.post_ln.bias", [n_embd], F32)
    for il in range(n_layer + 1):
        p = f"v.blk.{il}."
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            t(p + name + ".weight", [n_embd, n_embd], F16)
            t(p + name + ".bias", [n_embd], F32)
        t(p + "ln1.weight", [n_embd], F32)
        t(p + "ln1.bias", [n_embd], F32)
        t(p + "ffn_down.weight", [n_embd, n_ff], F16)  # fc1
        t(p + "ffn_down.bias", [n_ff], F32)
        t(p + "ffn_up.weight", [n_ff, n_embd], F16)  # fc2
        t(p + "ffn_up.bias", [n_embd], F32)
        t(p + "ln2.weight", [n_embd], F32)
        t(p + "ln2.bias", [n_embd], F32)
    k("clip.has_text_encoder", T_BOOL, False)
    k("clip.has_vision_encoder", T_BOOL, True)
    k("clip.has_llava_projector", T_BOOL, True)
    k("clip.projector_type", T_STRING, "mlp")
    k("clip.vision.image_size", T_U32, image)
    k("clip.vision.patch_size", T_U32, patch)
    k("clip.vision.embedding_length", T_U32, n_embd)
    k("clip.vision.feed_forward_length", T_U32, n_ff)
    k("clip.vision.projection_dim", T_U32, text_embd)
    k("clip.vision.attention.head_count", T_U32, n_head)
    k("clip.vision.attention.layer_norm_epsilon", T_F32, 1e-6)
    k("clip.vision.block_count", T_U32, n_layer + 1)
    k("clip.vision.image_mean", T_ARRAY, (T_F32, SIGLIP_NORM[0]))
    k("clip.vision.image_std", T_ARRAY, (T_F32, SIGLIP_NORM[1]))
    k("clip.use_gelu", T_BOOL, True)


PRESETS = {
    "gemma3-4b": lambda t, k: gemma3(t, k, 2560),
    "gemma3-12b": lambda t, k: gemma3(t, k, 3840),
    "gemma3-27b": lambda t, k: gemma3(t, k, 5376),
    "llava-7b": lambda t, k: llava(t, k, 4096),
    "llava-13b": lambda t, k: llava(t, k, 5120),
    "llava-34b": lambda t, k: llava(t, k, 7168),
    # Other shapes, to check the rebuilt graph beyond the catalog's towers:
    "gemma3-small": lambda t, k: gemma3(t, k, 512, n_embd=256, n_ff=1024, n_layer=3, n_head=4,
                                        patch=16, image=512, merge=2),
    "llava-vitb16-224": lambda t, k: llava(t, k, 2048, n_embd=768, n_ff=3072, n_layer=6,
                                           n_head=12, patch=16, image=224),
    # Mistral Small 3.1 / 3.2 (and Magistral Small): Pixtral ViT, patch merger, text 5120.
    "pixtral-mistral-small": lambda t, k: pixtral(t, k, 5120),
    # Pixtral 12B (mistral-community/pixtral-12b): no patch merger, 16-pixel patches,
    # projector biases.
    "pixtral-12b": lambda t, k: pixtral(t, k, 5120, patch=16, image=1024, merge=1,
                                        proj_bias=True),
    # MiniCPM-V 2.6 (SigLIP-400M at 448 px + resampler to Qwen2-7B's 3584).
    "minicpmv-2.6": lambda t, k: minicpmv(t, k, 3584),
    "minicpmv-small": lambda t, k: minicpmv(t, k, 512, n_embd=256, n_ff=640, n_layer=3,
                                            n_head=4, patch=16, image=256, n_pos=400,
                                            queries=32),
    "pixtral-small": lambda t, k: pixtral(t, k, 512, n_embd=256, n_ff=640, n_layer=3, n_head=4,
                                          patch=16, image=512, merge=3),
    "qwen2.5vl-3b": lambda t, k: qwen25vl(t, k, 2048),
    "qwen2.5vl-7b": lambda t, k: qwen25vl(t, k, 3584),
    "qwen2.5vl-32b": lambda t, k: qwen25vl(t, k, 5120),
    "qwen2.5vl-72b": lambda t, k: qwen25vl(t, k, 8192),
    "qwen3vl-2b": lambda t, k: qwen3vl(t, k, 2048, n_embd=1024, n_ff=4096, n_layer=24,
                                       deepstack=(5, 11, 17)),
    "qwen3vl-4b": lambda t, k: qwen3vl(t, k, 2560, n_embd=1024, n_ff=4096, n_layer=24,
                                       deepstack=(5, 11, 17)),
    "qwen3vl-8b": lambda t, k: qwen3vl(t, k, 4096),
    "qwen3vl-30b-a3b": lambda t, k: qwen3vl(t, k, 2048),
    "qwen3vl-32b": lambda t, k: qwen3vl(t, k, 5120),
    # As Ollama's llama-server serves its own qwen25vl / qwen3vl files: the compat layer
    # (ollama llama/compat/llama-ollama-compat.cpp, handle_qwen25vl_clip / handle_qwen3vl_clip)
    # loads the patch kernels as F32, so the im2col copies are F32.
    "qwen2.5vl-7b-f32patch": lambda t, k: qwen25vl(t, k, 3584, patch_type=F32),
    "qwen3vl-8b-f32patch": lambda t, k: qwen3vl(t, k, 4096, patch_type=F32),
    "qwen2.5vl-small": lambda t, k: qwen25vl(t, k, 1024, n_embd=256, n_ff=688, n_layer=6,
                                             n_head=4, wa_pattern=3),
    "qwen3vl-small": lambda t, k: qwen3vl(t, k, 1024, n_embd=256, n_ff=1024, n_layer=5,
                                          n_head=4, deepstack=(1, 3)),
    "qwen3vl-nodeepstack": lambda t, k: qwen3vl(t, k, 512, n_embd=256, n_ff=1024, n_layer=3,
                                                n_head=4, deepstack=(), n_pos=8464),
    # Qwen2-VL 2B / 7B (vision_config: depth 32, embed_dim 1280, num_heads 16, mlp_ratio 4,
    # hidden_size = the text width 1536 / 3584) and a small shape.
    "qwen2vl-2b": lambda t, k: qwen2vl(t, k, 1536),
    "qwen2vl-7b": lambda t, k: qwen2vl(t, k, 3584),
    "qwen2vl-small": lambda t, k: qwen2vl(t, k, 512, n_embd=256, n_layer=3, n_head=4),
    # SmolVLM-256M / 500M (SigLIP base patch-16/512, scale factor 4; text 576 / 960),
    # SmolVLM2-2.2B (SigLIP so400m at 384 px: 27 x 27 patches of 14, scale factor 3; text
    # 2048), Idefics3-8B (364 px, scale factor 2; Llama 3.1 8B's 4096), a small shape whose
    # patches are padded up to a whole number of merges (ggml_pad).
    "smolvlm-256m": lambda t, k: idefics3(t, k, 576),
    "smolvlm-500m": lambda t, k: idefics3(t, k, 960),
    "smolvlm2-2.2b": lambda t, k: idefics3(t, k, 2048, n_embd=1152, n_ff=4304, n_layer=27,
                                           n_head=16, patch=14, image=384, merge=3),
    "idefics3-8b": lambda t, k: idefics3(t, k, 4096, n_embd=1152, n_ff=4304, n_layer=27,
                                         n_head=16, patch=14, image=364, merge=2),
    "idefics3-small": lambda t, k: idefics3(t, k, 512, n_embd=256, n_ff=1024, n_layer=3,
                                            n_head=4, patch=16, image=224, merge=4),
    # InternVL3 1B / 2B / 8B / 14B (InternViT-300M-448px-V2_5; Qwen2.5 0.5B / 1.5B / 7B / 14B
    # text), InternVL3-38B (InternViT-6B-448px-V2_5: 45 blocks of 3200, 25 heads, RMS norms
    # and q/k norms; Qwen2.5-32B's 5120) and a small shape.
    "internvl3-1b": lambda t, k: internvl(t, k, 896),
    "internvl3-2b": lambda t, k: internvl(t, k, 1536),
    "internvl3-8b": lambda t, k: internvl(t, k, 3584),
    "internvl3-14b": lambda t, k: internvl(t, k, 5120),
    "internvl3-38b": lambda t, k: internvl(t, k, 5120, n_embd=3200, n_ff=12800, n_layer=45,
                                           n_head=25, rms=True),
    "internvl-small": lambda t, k: internvl(t, k, 512, n_embd=256, n_ff=1024, n_layer=3,
                                            n_head=4, patch=16, image=256),
    # Llama 4 Scout / Maverick (the same tower; text 5120) and a small shape (3 blocks, a
    # 4 x 4 pixel shuffle, a narrower MLP).
    "llama4-scout": lambda t, k: llama4(t, k, 5120),
    "llama4-small": lambda t, k: llama4(t, k, 512, n_embd=256, n_ff=1024, n_layer=3, n_head=4,
                                        patch=16, image=256, merge=4, adapter=768),
    # moondream2 (create_gguf.py: SigLIP at 378 px, 27 + 1 blocks, MLP 1152 -> 8192 -> 2048)
    # and a small shape.
    "moondream2": lambda t, k: moondream(t, k, 2048),
    "moondream-small": lambda t, k: moondream(t, k, 512, n_embd=256, n_ff=640, n_layer=3,
                                              n_head=4, patch=16, image=224, adapter=1024),
}
SHAPE = {}


def nbytes(shape, typ):
    n = 1
    for d in shape:
        n *= d
    return n * (4 if typ == F32 else 2)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in PRESETS:
        sys.exit("usage: make_mmproj.py {" + ",".join(PRESETS) + "} OUT.gguf")
    tensors, kvs = [], []
    PRESETS[sys.argv[1]](lambda n, sh, ty: tensors.append((n, sh, ty)),
                         lambda key, ty, v: kvs.append(kv(key, ty, v)))
    kvs.insert(0, kv("general.architecture", T_STRING, "clip"))
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    off = 0
    for name, shape, typ in tensors:
        head += s(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        head += struct.pack("<IQ", typ, off)
        off += (nbytes(shape, typ) + ALIGN - 1) // ALIGN * ALIGN
    head += b"\0" * ((-len(head)) % ALIGN)
    with open(sys.argv[2], "wb") as f:
        f.write(head)
        f.truncate(len(head) + off)  # the data: a hole of zeros
    print(json.dumps(SHAPE, separators=(",", ":")))  # the encoder's shape, for measure.sh


if __name__ == "__main__":
    main()
