"""The two training stages: masked-LM pretraining on unlabelled text, then fine-tuning on the labels."""
from __future__ import annotations

import random
import time

import torch
from torch import nn

from bert import BertConfig, BertForMaskedLM, BertForSequenceClassification
from data import bucketed_batches, pad
from wordpiece import WordPieceTokenizer


def _optimizer(model: nn.Module, lr: float, total_steps: int, warmup_ratio: float, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim == 1 or "norm" in name.lower() else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    warmup = max(1, int(total_steps * warmup_ratio))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )
    return opt, schedule


def _update(model: nn.Module, opt, schedule, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    schedule.step()


def mask_tokens(ids: torch.Tensor, attention: torch.Tensor, tok: WordPieceTokenizer, rate: float, gen: torch.Generator):
    """BERT's 80/10/10 masking of `rate` of the real (non-special) tokens; at least one per sequence."""
    special = (ids == tok.cls_id) | (ids == tok.sep_id) | (attention == 0)
    scores = torch.rand(ids.shape, generator=gen).masked_fill(special, 2.0)
    chosen = scores < rate
    first = scores.argmin(dim=1)
    chosen[torch.arange(ids.shape[0]), first] |= ~special[torch.arange(ids.shape[0]), first]
    labels = ids[chosen]
    corrupted = ids.clone()
    action = torch.rand(ids.shape, generator=gen)
    corrupted[chosen & (action < 0.8)] = tok.mask_id
    random_pos = chosen & (action >= 0.8) & (action < 0.9)
    corrupted[random_pos] = torch.randint(len(tok.vocab) - 5, (int(random_pos.sum()),), generator=gen) + 5
    return corrupted, chosen, labels


def pretrain_mlm(config: BertConfig, tok: WordPieceTokenizer, sequences: list[list[int]], hp: dict, seed: int, log) -> tuple[dict, dict]:
    torch.manual_seed(seed)
    rng, gen = random.Random(seed), torch.Generator().manual_seed(seed)
    model = BertForMaskedLM(config)
    examples = [(s, 0) for s in sequences]
    steps_per_epoch = -(-len(examples) // hp["batch_size"])
    total = steps_per_epoch * hp["epochs"] if hp.get("max_steps") is None else hp["max_steps"]
    opt, schedule = _optimizer(model, hp["lr"], total, hp["warmup_ratio"], hp["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    started, step, running = time.time(), 0, []
    model.train()
    while step < total:
        for batch in bucketed_batches(examples, hp["batch_size"], rng):
            ids, attention = pad([e[0] for e in batch], tok.pad_id)
            corrupted, positions, labels = mask_tokens(ids, attention, tok, hp["mask_rate"], gen)
            loss = loss_fn(model(corrupted, attention, torch.zeros_like(ids), positions), labels)
            _update(model, opt, schedule, loss)
            step += 1
            running.append(loss.item())
            if step % hp["log_every"] == 0 or step == total:
                log(f"mlm step {step}/{total} loss {sum(running) / len(running):.3f} ({time.time() - started:.0f}s)")
                running = []
            if step >= total:
                break
    report = {"steps": total, "seconds": round(time.time() - started, 1), "sequences": len(sequences)}
    return model.bert.state_dict(), report


@torch.no_grad()
def accuracy(model: nn.Module, examples: list, tok: WordPieceTokenizer, batch_size: int = 256) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        ids, attention = pad([e[0] for e in batch], tok.pad_id)
        predicted = model(ids, attention, torch.zeros_like(ids)).argmax(-1)
        correct += int((predicted == torch.tensor([e[1] for e in batch])).sum())
    model.train()
    return correct / len(examples)


def distillation_loss(student_logits: torch.Tensor, labels: torch.Tensor, teacher_logits: torch.Tensor, hp: dict) -> torch.Tensor:
    """Hinton et al.'s knowledge distillation: hard-label cross-entropy mixed with KL to the teachers at temperature T."""
    t, alpha = hp["temperature"], hp["alpha"]
    soft = nn.functional.kl_div(
        nn.functional.log_softmax(student_logits / t, -1), nn.functional.softmax(teacher_logits / t, -1), reduction="batchmean"
    )
    return (1 - alpha) * nn.functional.cross_entropy(student_logits, labels) + alpha * t * t * soft


def fine_tune(config: BertConfig, tok: WordPieceTokenizer, train: list, holdout: list, hp: dict, seed: int,
              pretrained: dict | None, log, teacher_logits: torch.Tensor | None = None) -> tuple[BertForSequenceClassification, dict]:
    """Fine-tune on the labels, evaluating the hold-out `evals_per_epoch` times an epoch and keeping the best.

    Training examples are (ids, label, row index); with teacher_logits (one row per training example) the loss is
    distillation from those teachers instead of plain cross-entropy.
    """
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = BertForSequenceClassification(config)
    if pretrained is not None:
        model.bert.load_state_dict(pretrained)
    steps_per_epoch = -(-len(train) // hp["batch_size"])
    total = steps_per_epoch * hp["epochs"] if hp.get("max_steps") is None else hp["max_steps"]
    eval_every = max(1, steps_per_epoch // hp["evals_per_epoch"])
    opt, schedule = _optimizer(model, hp["lr"], total, hp["warmup_ratio"], hp["weight_decay"])
    loss_fn = nn.CrossEntropyLoss()
    best_acc, best_state, best_step, curve = -1.0, None, 0, []
    started, step = time.time(), 0
    model.train()
    while step < total:
        for batch in bucketed_batches(train, hp["batch_size"], rng):
            ids, attention = pad([e[0] for e in batch], tok.pad_id)
            logits, labels = model(ids, attention, torch.zeros_like(ids)), torch.tensor([e[1] for e in batch])
            if teacher_logits is None:
                loss = loss_fn(logits, labels)
            else:
                loss = distillation_loss(logits, labels, teacher_logits[[e[2] for e in batch]], hp["distill"])
            _update(model, opt, schedule, loss)
            step += 1
            if step % eval_every == 0 or step == total:
                acc = accuracy(model, holdout, tok)
                curve.append({"step": step, "holdout_accuracy": round(acc, 4)})
                log(f"fine-tune step {step}/{total} loss {loss.item():.3f} holdout {acc:.4f} ({time.time() - started:.0f}s)")
                if acc > best_acc:
                    best_acc, best_step = acc, step
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if step >= total:
                break
    model.load_state_dict(best_state)
    model.eval()
    report = {"steps": total, "best_step": best_step, "holdout_accuracy": round(best_acc, 4),
              "seconds": round(time.time() - started, 1), "curve": curve}
    return model, report
