"""Summarizes the teachers a student was distilled from, for the model folder: python3 teachers_report.py --out F DIR..."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("teachers", nargs="+", help="teacher model folders (each with training_report.json)")
    args = p.parse_args()
    summary = []
    for folder in args.teachers:
        report = json.loads((Path(folder) / "training_report.json").read_text())
        summary.append({
            "name": Path(folder).name,
            "seed": report["seed"],
            "pretrained": report["pretrained"],
            "holdout_accuracy": report["finetune"]["holdout_accuracy"],
            "finetune_seconds": report["finetune"]["seconds"],
            "threads": report["machine"]["threads"],
        })
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
