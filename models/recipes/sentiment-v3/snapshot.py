"""The pretraining checkpoint as committable fp16 files (each under 16 MB), and reading it back to resume.

  python3 snapshot.py [--work WORK] [--out models/recipes/sentiment-v3/checkpoints]
Writes weights.fp16.pt (every tensor once), adam-m.fp16.pt and adam-v.fp16.pt (Adam's first moment and the square
root of its second, each tensor scaled by its largest value before rounding), state.pt (step, schedule, RNG states,
data position, loss curve), vocab.txt and manifest.json (step, sizes, sha256), into a temporary folder that then
replaces --out. Resuming from it continues at the saved step, data position and RNG state; weights and moments
carry fp16 rounding (relative error at most 2^-11), and a second moment rounded below its first moment squared is
raised to it, so no update can blow up.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

import torch

from common import HERE, WORK, RecipeError, atomic_save, logger, main_guard

MAX_FILE_BYTES = 16_000_000
STATE_KEYS = ("fingerprint", "schedule", "torch_rng", "sampler_rng", "step", "epoch", "batch", "curve", "cpu_seconds",
              "wall_seconds", "resumed_from", "glove_init")


def _scaled(t: torch.Tensor) -> dict:
    scale = float(t.abs().max()) or 1.0
    return {"half": (t / scale).half(), "scale": scale}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_snapshot(checkpoint: Path, vocab: Path, out: Path, log) -> dict:
    if not checkpoint.is_file():
        raise RecipeError(f"no pretraining checkpoint at {checkpoint} (run: bash models/recipes/sentiment-v3/run.sh pretrain)")
    saved = torch.load(checkpoint)
    weights, aliases, seen = {}, {}, {}
    for name, t in saved["model"].items():
        key = (t.data_ptr(), tuple(t.shape))
        if key in seen:
            aliases[name] = seen[key]  # the shared embeddings appear under three names
        else:
            seen[key], weights[name] = name, t.half()
    opt = saved["optimizer"]
    moments = {i: (_scaled(s["exp_avg"]), _scaled(s["exp_avg_sq"].sqrt())) for i, s in opt["state"].items()}
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save({"weights": weights, "aliases": aliases}, tmp / "weights.fp16.pt")
    torch.save({i: m for i, (m, _) in moments.items()}, tmp / "adam-m.fp16.pt")
    torch.save({i: v for i, (_, v) in moments.items()}, tmp / "adam-v.fp16.pt")
    steps = {i: float(s["step"]) for i, s in opt["state"].items()}
    torch.save({**{k: saved[k] for k in STATE_KEYS if k in saved}, "param_groups": opt["param_groups"], "adam_steps": steps},
               tmp / "state.pt")
    shutil.copyfile(vocab, tmp / "vocab.txt")
    files = {}
    for f in sorted(tmp.iterdir()):
        size = f.stat().st_size
        if size >= MAX_FILE_BYTES:
            raise RecipeError(f"{f.name} is {size:,} bytes, over the 16 MB a committed file may hold")
        files[f.name] = {"bytes": size, "sha256": _sha256(f)}
    manifest = {"step": saved["step"], "total_steps": saved["fingerprint"]["pretrain"]["total_steps"],
                "epoch": saved["epoch"], "cpu_seconds": round(saved["cpu_seconds"]), "files": files,
                "last_point": saved["curve"][-1] if saved["curve"] else None}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    log(f"wrote {out}: step {manifest['step']}, " + ", ".join(f"{k} {v['bytes']:,} B" for k, v in files.items()))
    return manifest


def read_snapshot(folder: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, check) -> dict:
    """Loads a snapshot into model and opt; returns the rest of the checkpoint (step, schedule, RNG, ...).

    check(fingerprint) raises RecipeError when the snapshot was made with another recipe, vocabulary or corpus.
    """
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, meta in manifest["files"].items():
        if not (folder / name).is_file() or _sha256(folder / name) != meta["sha256"]:
            raise RecipeError(f"{folder / name} is missing or does not match manifest.json (a partial checkout or a git LFS pointer?): "
                              f"run git checkout -- {folder} or move {folder} away to start over")
    state = torch.load(folder / "state.pt")
    check(state["fingerprint"])
    w = torch.load(folder / "weights.fp16.pt")
    weights = {**w["weights"], **{a: w["weights"][k] for a, k in w["aliases"].items()}}
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    m_all, v_all = torch.load(folder / "adam-m.fp16.pt"), torch.load(folder / "adam-v.fp16.pt")
    restored = {}
    for i, step in state["adam_steps"].items():
        m = m_all[i]["half"].float() * m_all[i]["scale"]
        v = (v_all[i]["half"].float() * v_all[i]["scale"]) ** 2
        restored[i] = {"step": torch.tensor(step), "exp_avg": m, "exp_avg_sq": torch.maximum(v, m * m)}
    opt.load_state_dict({"state": restored, "param_groups": state["param_groups"]})
    return state


def describe(folder: Path) -> str:
    """One line on a snapshot, for its commit message."""
    m = json.loads((folder / "manifest.json").read_text())
    p = m["last_point"] or {}
    return (f"step {m['step']}/{m['total_steps']}, {m['cpu_seconds']} CPU s, generator MLM loss {p.get('mlm')}, "
            f"discriminator loss {p.get('disc')}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=str(WORK))
    p.add_argument("--out", default=str(HERE / "checkpoints"))
    p.add_argument("--describe", action="store_true", help="print one line on the snapshot in --out and stop")
    args = p.parse_args()
    if args.describe:
        print(describe(Path(args.out)))
        return
    work = Path(args.work)
    write_snapshot(work / "pretrain" / "checkpoint.pt", work / "vocab.txt", Path(args.out), logger())


if __name__ == "__main__":
    main_guard(main)
