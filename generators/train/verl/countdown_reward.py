"""veRL custom reward module: `custom_reward_function.path=<this file>`, `custom_reward_function.name=compute_score`.

veRL imports this file by path (importlib.util.spec_from_file_location), so it only re-exports the reward from the
installed package; install cogbeh in veRL's environment (`pip install -e .`). The reward never evaluates code:
1.0 for a correct equation, 0.1 for a tagged but wrong one, 0.0 with no <answer> tag (the paper's values).
"""

from cogbeh.countdown import verl_compute_score

compute_score = verl_compute_score

__all__ = ["compute_score", "verl_compute_score"]
