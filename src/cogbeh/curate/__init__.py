"""`cogbeh-gen curate`: behavior-rich and behavior-minimal pretraining data from a math corpus.

The paper's second half (Gandhi et al. 2025, pretraining_analysis/): label every document of a math corpus
with the four behavior counts plus whether it holds a problem and a solution, select a behavior-rich and a
behavior-minimal set under one token budget, and rewrite each selected document into question / thoughts /
answer for prompt-masked SFT. The steps are plain functions; corpus runs go through datatrove (extra `curate`).

Modules:
- `labels`: the label schema every labeler fills and the `Labeler` interface (`make_labeler`).
- `rules`: the offline rule labeler for general math prose (linear time, documented cues).
- `judge`: the paper's four LLM prompts, the is-solution prompt and a combined document-first prompt.
- `requests`: provider requests for curate (cache, cost cap, dry-run, batches), shared by judge and rewrite.
- `corpus`: reading Hub datasets, Parquet and JSONL, and sharding inputs so datatrove tasks resume.
- `steps`, `executors`: the datatrove pipeline steps and the local / Slurm / Ray executors.
- `select`, `frequency`: rich/minimal selection under a token budget and the behavior frequency table.
- `checks`, `rewrite`: the rewrite and its three checks (question in document, behaviors, answer kept).
- `distill`: fastText models per behavior trained on judge labels (`--judge fasttext:PATH`).
"""
