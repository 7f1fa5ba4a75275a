#!/usr/bin/env python3
"""An attack on `splitfed privacy capture` output that shares no code with splitfed's own.

A curious server's learned inverter: a one-hidden-layer MLP, trained with cross-entropy on the
attacker's own capture (public text it sent through the same public cut and defence), reads each
position's token from the states in a window around it (the cut mixes neighbours in, so they carry
evidence too). It is scored on a victims' capture: exact tokens over the real positions (mask.npy),
against the attacker's most common token guessed everywhere. Only numpy.

  python3 tools/privacy/independent_attack.py --attacker DIR --victims DIR [--window 1] [--hidden 512] [--epochs 8]
"""
import argparse
import json
import os
import sys

import numpy as np


def load(d):
    acts = np.load(os.path.join(d, "activations.npy"), mmap_mode="r")
    mask = np.load(os.path.join(d, "mask.npy"))
    ids = np.load(os.path.join(d, "token_ids.npy"))
    meta = json.load(open(os.path.join(d, "meta.json")))
    return acts, mask, ids, meta


def windows(acts, mask, window):
    """Features of every real position: the states at t - window .. t + window, zeros off the row."""
    n, length, hidden = acts.shape
    rows, cols = np.nonzero(mask)
    feats = np.zeros((len(rows), (2 * window + 1) * hidden), dtype=np.float32)
    for k, off in enumerate(range(-window, window + 1)):
        c = cols + off
        ok = (c >= 0) & (c < length)
        feats[ok, k * hidden:(k + 1) * hidden] = acts[rows[ok], c[ok]]
    return feats, rows, cols


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--attacker", required=True, help="capture of the attacker's own public text")
    p.add_argument("--victims", required=True, help="capture of what the server received from the devices")
    p.add_argument("--window", type=int, default=1, help="neighbours on each side fed to the inverter (default 1)")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    att_acts, att_mask, att_ids, att_meta = load(a.attacker)
    vic_acts, vic_mask, vic_ids, vic_meta = load(a.victims)
    for key in ("model", "cut", "clip", "noise_sigma", "bits"):
        if att_meta.get(key) != vic_meta.get(key):
            sys.exit(f"the captures differ in {key}: {att_meta.get(key)} (attacker) against {vic_meta.get(key)} (victims); "
                     "the attacker must send its text through the same cut and defence")

    x, r, c = windows(att_acts, att_mask, a.window)
    y_tok = att_ids[r, c]
    classes, y = np.unique(y_tok, return_inverse=True)
    mean, std = x.mean(0), x.std(0) + 1e-6
    x = (x - mean) / std
    rng = np.random.default_rng(a.seed)
    order = rng.permutation(len(x))
    hold = order[: len(x) // 10]
    fit = order[len(x) // 10:]

    d, k = x.shape[1], len(classes)
    w1 = (rng.standard_normal((d, a.hidden)) * np.sqrt(2.0 / d)).astype(np.float32)
    b1 = np.zeros(a.hidden, np.float32)
    w2 = (rng.standard_normal((a.hidden, k)) * np.sqrt(1.0 / a.hidden)).astype(np.float32)
    b2 = np.log(np.bincount(y, minlength=k) + 1.0).astype(np.float32)  # start from the prior
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    step = 0

    def predict(feats):
        out = []
        for s in range(0, len(feats), 4096):
            h = np.maximum(feats[s:s + 4096] @ w1 + b1, 0)
            out.append(np.argmax(h @ w2 + b2, axis=1))
        return np.concatenate(out)

    best = (-1.0, None)
    for epoch in range(a.epochs):
        rng.shuffle(fit)
        for s in range(0, len(fit), a.batch):
            idx = fit[s:s + a.batch]
            xb, yb = x[idx], y[idx]
            h_pre = xb @ w1 + b1
            h = np.maximum(h_pre, 0)
            logits = h @ w2 + b2
            logits -= logits.max(1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(1, keepdims=True)
            prob[np.arange(len(yb)), yb] -= 1
            g_logits = prob / len(yb)
            g_w2 = h.T @ g_logits
            g_b2 = g_logits.sum(0)
            g_h = (g_logits @ w2.T) * (h_pre > 0)
            g_w1 = xb.T @ g_h
            g_b1 = g_h.sum(0)
            step += 1
            for q, g, mq, vq in zip(params, (g_w1, g_b1, g_w2, g_b2), m, v):
                mq *= 0.9
                mq += 0.1 * g
                vq *= 0.999
                vq += 0.001 * g * g
                q -= a.lr * (mq / (1 - 0.9 ** step)) / (np.sqrt(vq / (1 - 0.999 ** step)) + 1e-8)
        held = float(np.mean(predict(x[hold]) == y[hold]))
        print(f"epoch {epoch + 1}: {100 * held:.1f}% of the attacker's held-back tokens", file=sys.stderr)
        if held > best[0]:
            best = (held, [q.copy() for q in params])
    w1, b1, w2, b2 = best[1]

    xv, rv, cv = windows(vic_acts, vic_mask, a.window)
    truth = vic_ids[rv, cv]
    guess = classes[predict((xv - mean) / std)]
    prior = classes[np.argmax(np.bincount(y))]
    result = {
        "cut": vic_meta["cut"], "clip": vic_meta["clip"], "noise_sigma": vic_meta["noise_sigma"], "bits": vic_meta["bits"],
        "victim_tokens": int(len(truth)), "recovered": int(np.sum(guess == truth)),
        "token_recovery": float(np.mean(guess == truth)), "frequency_prior": float(np.mean(truth == prior)),
        "attacker_tokens": int(len(y)), "attacker_classes": int(k), "held_back": best[0],
        "window": a.window, "hidden": a.hidden, "epochs": a.epochs,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
