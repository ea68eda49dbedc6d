"""Long-range memory: the adding problem. An LSTM and a GRU learn it; a plain RNN does not.

Each input is a sequence of T pairs (u_t, m_t): u_t ~ U(0, 1) and m_t = 1 at two positions,
one in each half (data/sequences.py). The target is the sum of the two marked u's, read from
the final state h_T by a linear layer, trained with MSE, Adam and gradient clipping
(clip_grad_norm_ at 1: an RNN's gradient can also explode).

Reference points for the test MSE:
    1/6  = Var(u1 + u2): always answering 1.0, the mean (no memory at all);
    1/12 = Var(u1): knowing the second number (seen at most T/2 steps ago) but not the first.
A model below 1/12 must carry the first marked number across up to T steps.

After training we also ask the models directly: d prediction / d u_first, the sensitivity of
the answer to the first marked number (a perfect adder has 1, a model that forgot it 0) and
the same for the second. That gradient has to travel back through every step in between:
this is the vanishing gradient of demos/vanishing_gradients.py, measured on trained models.
"""

import argparse
import time

import numpy as np

import tinygrad_course as tg
from demos import _plotting
from tinygrad_course import nn
from tinygrad_course.data.sequences import make_adding_problem

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
NO_MEMORY_MSE = 1 / 6
SECOND_ONLY_MSE = 1 / 12


class Adder(nn.Module):
    """A recurrent layer read out at the last step: prediction = w . h_T + b."""

    def __init__(self, kind, hidden, seed):
        super().__init__()
        self.kind = kind
        self.rnn = LAYERS[kind](2, hidden, seed=seed)
        self.readout = nn.Linear(hidden, 1, seed=seed + 1000)

    def forward(self, x):
        _, state = self.rnn(x)
        h_last = (state[0] if self.kind == "lstm" else state)[-1]  # (B, H)
        return self.readout(h_last)[:, 0]


def test_mse(model, x, y):
    with tg.no_grad():
        diff = model(tg.tensor(x)) - tg.tensor(y)
        return float((diff * diff).mean().item())


def train(kind, config, seed):
    """Adam + clipping on fresh batches until test MSE < config['solved'] or the budget ends.

    Returns the model, the test MSE after every eval_every steps, and the steps it took.
    """
    length, hidden = config["length"], config["hidden"]
    x_pool, y_pool = make_adding_problem(config["pool"], length, seed=seed)
    x_test, y_test = make_adding_problem(config["test"], length, seed=10_000 + seed)
    model = Adder(kind, hidden, seed)
    params = list(model.parameters())
    opt = tg.optim.Adam(params, lr=config["lr"])
    rng = np.random.default_rng(seed)
    history, steps = [], 0
    while steps < config["max_steps"]:
        batch = rng.integers(0, config["pool"], size=config["batch"])
        diff = model(tg.tensor(x_pool[:, batch])) - tg.tensor(y_pool[batch])
        loss = (diff * diff).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        steps += 1
        if steps % config["eval_every"] == 0:
            history.append(test_mse(model, x_test, y_test))
            if history[-1] < config["solved"]:
                break
    return model, history, steps, (x_test, y_test)


def sensitivity_to_marked(model, x):
    """Mean d prediction / d u at the first and at the second marked position."""
    inputs = tg.tensor(x, requires_grad=True)
    model(inputs).sum().backward()  # examples are independent: row b's grad is d pred_b / d x
    grad = inputs.grad.numpy()[:, :, 0]  # (T, B): d pred_b / d u_t
    marked = x[:, :, 1] > 0  # (T, B), two per column
    first = marked.argmax(axis=0)
    second = x.shape[0] - 1 - marked[::-1].argmax(axis=0)
    columns = np.arange(x.shape[1])
    return float(grad[first, columns].mean()), float(grad[second, columns].mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--no-plot", action="store_true", help="skip the figure")
    args = parser.parse_args(argv)
    if args.quick:
        config = dict(length=30, hidden=16, batch=32, lr=0.02, max_steps=800, eval_every=100,
                      pool=10_000, test=500, solved=0.01)
        seeds = [0]
    else:
        config = dict(length=60, hidden=32, batch=32, lr=0.01, max_steps=3000, eval_every=100,
                      pool=20_000, test=1000, solved=0.005)
        seeds = [0, 1]
    print(f"Adding problem, T = {config['length']}: predict u_first + u_second. Test MSE of "
          f"no memory = {NO_MEMORY_MSE:.3f}, of remembering only the second number = "
          f"{SECOND_ONLY_MSE:.3f}.")
    print(f"hidden {config['hidden']}, batch {config['batch']}, Adam lr {config['lr']}, "
          f"clip_grad_norm_ 1.0, at most {config['max_steps']} steps (stop when test MSE < "
          f"{config['solved']})")
    results, curves = {}, {}
    for kind in LAYERS:
        finals, firsts, seconds, used = [], [], [], []
        for seed in seeds:
            start = time.process_time()
            model, history, steps, (x_test, _) = train(kind, config, seed)
            first, second = sensitivity_to_marked(model, x_test)
            finals.append(history[-1])
            firsts.append(first)
            seconds.append(second)
            used.append(steps)
            curves[f"{kind} seed {seed}"] = history
            print(f"   {kind:<5} seed {seed}: test MSE {history[-1]:.4f} after {steps} steps "
                  f"({time.process_time() - start:.1f} s CPU); d pred/d u_first "
                  f"{first:+.3f}, d pred/d u_second {second:+.3f}")
        results[f"{kind}_mse"] = max(finals)
        results[f"{kind}_steps"] = max(used)
        results[f"{kind}_d_first"] = float(np.mean(firsts))
        results[f"{kind}_d_second"] = float(np.mean(seconds))
    results["length"] = config["length"]
    learned = [k for k in LAYERS if results[f"{k}_mse"] < SECOND_ONLY_MSE]
    print(f"Below {SECOND_ONLY_MSE:.3f}, i.e. carrying the first number across up to "
          f"{config['length']} steps: {', '.join(learned) or 'none'}")

    plt = None if args.no_plot else _plotting.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        for label, history in curves.items():
            ax.semilogy(np.arange(1, len(history) + 1) * config["eval_every"], history,
                        label=label)
        ax.axhline(NO_MEMORY_MSE, ls="--", c="gray", label="no memory (1/6)")
        ax.axhline(SECOND_ONLY_MSE, ls=":", c="gray", label="second number only (1/12)")
        ax.set_xlabel("training step")
        ax.set_ylabel("test MSE")
        ax.set_title(f"adding problem, T = {config['length']}")
        ax.legend(fontsize=8)
        print("figure:", _plotting.save(fig, "long_memory"))
    return results


if __name__ == "__main__":
    main()
