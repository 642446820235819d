"""Thin TRL entry points: priming SFT, GRPO on Countdown, behavioral evaluation, veRL export.

Modules: data (priming rows, RL prompts), chat_template, config (TRL-named YAML), sft, rl, evaluate, verl,
tiny (a tiny local model for offline runs). torch, transformers, trl, peft and datasets are imported inside
functions only, so importing this package costs nothing.
"""
