"""Train a character-level language model with dagrad, then let it write: Karpathy's char-rnn.

    python examples/charlm.py                         # the lstm preset on tiny Shakespeare, then a sample
    python examples/charlm.py --text names.txt --steps 500 --save names.npz
    python examples/charlm.py --load names.npz --sample 300 --temperature 0.8 --top-k 10
    mpiexec -n 2 python examples/charlm.py            # the same, each step's batch split over 2 processes

The text's first 90% of characters train, the last 10% validate; the vocabulary is the
sorted set of the whole file's characters. Recipes, options and checks live in
charlm_helpers/: presets.py (with checks.py), report.py, checkpoint.py, sampling.py, plots.py.
"""
from __future__ import annotations

import itertools
import math
import os
import sys
import time
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import nn  # noqa: E402
from autograd import no_grad  # noqa: E402
from charlm_helpers.attention_maps import plot_attention  # noqa: E402
from charlm_helpers.checkpoint import read_checkpoint  # noqa: E402
from charlm_helpers.presets import DEFAULT_PRESET, PRESETS, parse_args  # noqa: E402
from charlm_helpers.report import Report, ctrl_c_stops_after_the_step  # noqa: E402
from charlm_helpers.sampling import generate  # noqa: E402
from common_helpers.heap import keep_freed_memory  # noqa: E402
from common_helpers.ranks import join_quietly, on_rank_zero  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from nn import functional as F  # noqa: E402


class CharLSTM(nn.Module):
    """Characters in, the next character's logits out: an embedding, a stacked LSTM, a linear head."""

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_layers: int):
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids):
        """ids (N, T) -> logits (N, T, vocab_size), each window from a zero state."""
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)

    def generate_step(self, ids, state=None):
        """Feed ids (N, T) on from ``state`` (None: zeros): the last logits (N, vocab_size) and the new state."""
        out, state = self.lstm(self.embedding(ids), state)
        return self.head(out[:, -1]), state


# A preset's ``model`` names its network here, built as MODELS[name](vocab_size, **model_options). A network
# maps ids (N, T) to logits (N, T, vocab_size); one that carries a state defines generate_step, as CharLSTM,
# any other is fed the last block_size characters to write each new one (charlm_helpers/sampling.py).
MODELS = {"lstm": CharLSTM, "gpt": lambda vocab_size, **options: GPT(GPTConfig(vocab_size=vocab_size, **options))}

EVAL_SEED = 1234  # every evaluation uses the same windows, so the figures compare across steps and seeds


class Problem(ValueError):
    """Something on the command line does not fit the text or the checkpoint: one line, exit status 2."""


def load_text(path: str | None) -> str:
    """The file at ``path`` as UTF-8 text, or tiny Shakespeare (found, or downloaded once)."""
    if path is None:
        return nn.datasets.load_shakespeare()
    try:
        with open(path, "rb") as file:
            return file.read().decode("utf-8")  # every character as it is: line ends are not translated
    except UnicodeDecodeError as error:
        raise Problem(f"--text {path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def prepare(args, text: str, checkpoint):
    """(preset, tokenizer, train ids, validation ids, prompt ids), or a Problem naming the option."""
    preset = PRESETS.get(args.preset or (checkpoint.preset if checkpoint else DEFAULT_PRESET))
    if checkpoint is not None:
        if checkpoint.preset not in PRESETS:
            raise Problem(f"--load {args.load}: a model of the {checkpoint.preset!r} preset, which this charlm.py "
                          f"does not have (it has {', '.join(sorted(PRESETS))})")
        if args.preset and args.preset != checkpoint.preset:
            raise Problem(f"--load {args.load}: a model of the {checkpoint.preset} preset, not of the "
                          f"{args.preset} preset: pass --preset {checkpoint.preset}, or leave --preset out")
    steps = args.steps if args.steps is not None else (0 if checkpoint else preset.steps)
    preset = replace(preset, steps=steps)
    tokenizer = checkpoint.tokenizer if checkpoint else nn.data.CharTokenizer(text or " ")
    try:
        ids = tokenizer.encode(text)
    except ValueError as error:  # only a checkpoint's vocabulary can lack a character of the text
        raise Problem(f"--load {args.load}: the text has a character the model's vocabulary lacks "
                      f"({str(error).split(': ', 1)[1]}); pass the --text it was trained on") from None
    split = int(0.9 * len(ids))
    if min(split, len(ids) - split) < preset.block_size + 1:
        least = next(n for n in itertools.count() if n - int(0.9 * n) >= preset.block_size + 1)
        raise Problem(f"{'--text ' + args.text if args.text else 'the text'}: {len(ids)} characters are too few "
                      f"for the {preset.name} preset: its last 10% must hold a window of {preset.block_size + 1}, "
                      f"so at least {least} characters")
    first = "\n" if "\n" in tokenizer.chars else text[0]
    try:
        prompt = tokenizer.encode(first if args.prompt is None else args.prompt)
    except ValueError as error:
        raise Problem(f"--prompt: {str(error).split(': ', 1)[1]}") from None
    if nn.distributed.world_size() > preset.batch_size:
        raise Problem(f"{nn.distributed.world_size()} processes share batches of {preset.batch_size} windows: "
                      f"start at most {preset.batch_size}")
    return preset, tokenizer, ids[:split], ids[split:], prompt


def build_model(preset, vocab_size: int, seed: int):
    """The preset's network, its weights drawn from ``seed``."""
    nn.manual_seed(seed)
    return MODELS[preset.model](vocab_size, **preset.model_options)


def loss_of(model, inputs, targets):
    """The mean cross-entropy per character (nats) of the model's predictions for the windows."""
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def evaluate(model, preset, ids) -> float:
    """``loss_of`` over ``preset.eval_windows`` random windows of ``ids`` (the same ones each time), no graph.

    Under mpiexec each rank takes its share of the windows and the sums are added up."""
    rng = np.random.default_rng(EVAL_SEED)
    starts = rng.integers(0, len(ids) - preset.block_size, size=preset.eval_windows)
    parallel = nn.distributed.world_size() > 1
    mine = nn.distributed.shard(starts).indices if parallel else starts
    total = 0.0
    model.eval()
    with no_grad():
        for chunk in np.array_split(mine, math.ceil(len(mine) / preset.eval_batch)) if len(mine) else []:
            inputs, targets = nn.data.windows_at(ids, chunk, preset.block_size)
            total += loss_of(model, inputs, targets).item() * len(chunk)
    model.train()
    if parallel:
        total = float(nn.distributed.all_reduce(np.array([total]))[0])
    return total / len(starts)


def make_optimizer(preset, model):
    """Adam, or AdamW with weight decay on the matrices only (as nanoGPT)."""
    if preset.optimizer == "adamw":
        params = list(model.parameters())
        groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": preset.weight_decay},
                  {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
        return nn.optim.AdamW(groups, lr=preset.lr, betas=preset.betas)
    return nn.optim.Adam(model.parameters(), lr=preset.lr, betas=preset.betas)


def learning_rate(preset, step: int) -> float:
    """The rate of step ``step`` (from 0): a linear warm-up to ``lr``, then a cosine decay to ``min_lr``."""
    if step < preset.warmup:
        return preset.lr * (step + 1) / (preset.warmup + 1)
    progress = (step - preset.warmup) / max(1, preset.steps - 1 - preset.warmup)
    return preset.min_lr + 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))) * (preset.lr - preset.min_lr)


def train(preset, model, train_ids, val_ids, seed: int, report) -> tuple[int, float]:
    """The steps, with an evaluation every ``eval_interval`` steps and after the last; returns
    (steps done, training seconds). A Ctrl-C stops after the current step.

    Under mpiexec every rank draws the same batch (one seed) and trains on its share of it,
    the gradients averaged by DistributedDataParallel (which starts every rank from rank 0's
    weights), so the steps are one process's; a Ctrl-C ends every rank at once."""
    if preset.steps == 0:
        return 0, 0.0
    parallel = nn.distributed.world_size() > 1
    trained = nn.distributed.DistributedDataParallel(model) if parallel else model
    optimizer = make_optimizer(preset, model)
    batches = nn.data.RandomWindows(train_ids, preset.block_size, preset.batch_size, seed=[seed, 0])
    parameters = list(model.parameters())
    done, seconds = 0, 0.0
    threads = nn.callbacks.BlasThreads()  # BLAS's threads or one, whichever runs the steps faster (as fit does)
    threads.on_train_begin()
    report.start(preset.steps)
    with ctrl_c_stops_after_the_step(not parallel) as ctrl_c:
        try:
            while done < preset.steps and not ctrl_c.stop:
                threads.on_batch_begin(done)
                start = time.perf_counter()
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(preset, done)
                inputs, targets = next(batches)
                if parallel:  # this rank's rows, and the weight that makes the mean over ranks the batch's gradient
                    rows = len(inputs)
                    share = nn.distributed.shard(np.arange(rows))
                    inputs, targets = inputs[share.indices], targets[share.indices]
                loss = loss_of(trained, inputs, targets)
                optimizer.zero_grad()
                (loss * share.weight if parallel and share.weight != 1 else loss).backward()
                if preset.clip:
                    nn.optim.clip_grad_norm_(parameters, preset.clip)
                optimizer.step()
                seconds += time.perf_counter() - start
                threads.on_batch_end(done)
                done += 1
                value = loss.item()
                if parallel:  # the whole batch's mean loss
                    value = float(nn.distributed.all_reduce(np.array([value * len(share.indices)]))[0]) / rows
                report.step(value)
                if not ctrl_c.stop and (done % preset.eval_interval == 0 or done == preset.steps):
                    report.evaluation(done, preset.steps, evaluate(model, preset, train_ids),
                                      evaluate(model, preset, val_ids), seconds)
        except KeyboardInterrupt:  # a second Ctrl-C, or SIGINT handled elsewhere: the step is cut short
            if parallel:
                raise  # the ranks cannot agree on where to stop: nn.distributed ends them all
            ctrl_c.stop = True
        finally:
            threads.on_train_end()
    if ctrl_c.stop:
        report.stopping(done, preset.steps)
    report.close_bar()
    return done, seconds


def main(argv=None) -> int:
    join_quietly()  # under mpiexec: one process of several (each step's batch is split), rank 0 speaks
    args = parse_args(argv)  # also checks every path, so a typo never costs a finished run
    args = on_rank_zero(args, save=None, metrics_json=None, plots=None, sample=0, quiet=True)
    report = Report(args)
    try:
        checkpoint = read_checkpoint(args.load) if args.load else None
        text = load_text(args.text)
        preset, tokenizer, train_ids, val_ids, prompt = prepare(args, text, checkpoint)
    except (Problem, nn.CheckpointError) as error:  # one line: which option, what is wrong
        print(f"charlm.py: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:  # no text and no network, a corrupt file: the reason and the fix
        print(f"charlm.py: cannot load the text: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C while reading or downloading: one line, no traceback
        return report.stopped("while loading")
    model = build_model(preset, tokenizer.vocab_size, args.seed)
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint.state)
        except ValueError as error:
            print(f"charlm.py: --load {args.load}: does not fit the {preset.name} preset's model: "
                  + "; ".join(line.strip() for line in str(error).splitlines()[1:]), file=sys.stderr)
            return 2
    steps, seconds = train(preset, model, train_ids, val_ids, args.seed, report)
    save = lambda: report.save(model, tokenizer, preset)  # noqa: E731
    try:
        if not report.history or report.history[-1]["step"] != steps:  # the final model's losses
            report.evaluation(steps, preset.steps, evaluate(model, preset, train_ids), evaluate(model, preset, val_ids),
                              seconds)
    except KeyboardInterrupt:  # as in training, the model is still saved
        return report.stopped("during the final evaluation", save)
    report.finish(preset, steps, seconds)
    try:
        save()  # first: the model is what the run was for
        sample = write_sample(args, model, tokenizer, preset, prompt)
    except KeyboardInterrupt:
        return report.stopped("while sampling", save)
    if args.metrics_json:
        report.write_metrics(preset, steps, seconds, sample, seed=args.seed, text=args.text or "tiny Shakespeare",
                             vocab_size=tokenizer.vocab_size, train_characters=len(train_ids),
                             val_characters=len(val_ids), seconds_per_step=seconds / steps if steps else None,
                             loaded=args.load)
    if args.plots:
        report.plots(extra=attention_plot(model, tokenizer, val_ids))
    return 130 if report.interrupted else 0


def attention_plot(model, tokenizer, ids) -> list:
    """--plots of a GPT also draws its heads' attention over the validation text's first 32 characters
    (fewer if its context is shorter)."""
    if not isinstance(model, GPT):
        return []
    prompt = ids[:min(32, model.config.block_size)]
    return [lambda directory: plot_attention(model, prompt, tokenizer.decode(prompt),
                                             os.path.join(directory, "attention.png"))]


def write_sample(args, model, tokenizer, preset, prompt) -> str | None:
    """--sample characters after the prompt (the prompt first), printed; None when none are asked for."""
    length = args.sample if args.sample is not None else (0 if args.quiet else 200)
    if length == 0:
        return None
    rng = np.random.default_rng([args.seed, 1])
    ids = generate(model, prompt, length, rng, args.temperature, args.top_k, context=preset.block_size)
    text = tokenizer.decode(ids)
    report_line = f"Sample ({length} characters, temperature {args.temperature:g}" + \
        (f", top-k {args.top_k})" if args.top_k else ")")
    if not args.quiet:
        print(report_line + ":")
    print(text, flush=True)
    return text


if __name__ == "__main__":
    keep_freed_memory()  # a step's arrays reuse freed memory instead of fresh pages (common_helpers/heap.py)
    sys.exit(main())
