#!/usr/bin/env bash
# veRL PPO on Countdown with the paper's settings (scripts/train_tiny_zero_n4_cd.sh in kanishkg/cognitive-behaviors):
# actor lr 1e-6, critic lr 1e-5, in-reward KL 0.001, 256 prompts x 4 rollouts, responses up to 1024 tokens,
# mini-batch 128 prompts, micro-batch 4. The reward is cogbeh's safe scorer (never evaluates the answer as code).
#
#   cogbeh-gen export verl ... --out data/verl/train.parquet   (and the test split to data/verl/test.parquet)
#   BASE_MODEL=meta-llama/Llama-3.2-3B N_GPUS=2 bash generators/train/verl/ppo_countdown.sh [extra overrides]
#
# Written for upstream veRL (custom_reward_function, *_per_gpu micro-batch names, use_kl_in_reward); the values
# are those of ppo_countdown.yaml. Run from the repository root, with cogbeh installed in veRL's environment.
set -euo pipefail

: "${BASE_MODEL:?set BASE_MODEL to a model id or path}"
DATA_DIR=${DATA_DIR:-data/verl}
N_GPUS=${N_GPUS:-1}
ROLLOUT_TP_SIZE=${ROLLOUT_TP_SIZE:-1}
EXPERIMENT_NAME=${EXPERIMENT_NAME:-countdown-ppo-$(basename "$BASE_MODEL")}
REWARD_FILE=${REWARD_FILE:-$(cd "$(dirname "$0")" && pwd)/countdown_reward.py}

python3 -m verl.trainer.main_ppo \
  data.train_files="$DATA_DIR/train.parquet" \
  data.val_files="$DATA_DIR/test.parquet" \
  data.train_batch_size=256 \
  data.max_prompt_length=256 \
  data.max_response_length=1024 \
  actor_rollout_ref.model.path="$BASE_MODEL" \
  actor_rollout_ref.actor.optim.lr=1e-6 \
  actor_rollout_ref.actor.ppo_mini_batch_size=128 \
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.actor.use_kl_loss=False \
  actor_rollout_ref.actor.entropy_coeff=0.001 \
  actor_rollout_ref.rollout.name=vllm \
  actor_rollout_ref.rollout.n=4 \
  actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP_SIZE" \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.4 \
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4 \
  critic.optim.lr=1e-5 \
  critic.model.path="$BASE_MODEL" \
  critic.ppo_micro_batch_size_per_gpu=4 \
  algorithm.adv_estimator=gae \
  algorithm.use_kl_in_reward=True \
  algorithm.kl_ctrl.kl_coef=0.001 \
  custom_reward_function.path="$REWARD_FILE" \
  custom_reward_function.name=compute_score \
  trainer.logger='["console"]' \
  trainer.val_before_train=True \
  trainer.n_gpus_per_node="$N_GPUS" \
  trainer.nnodes=1 \
  trainer.save_freq=10 \
  trainer.test_freq=10 \
  trainer.project_name=cogbeh-countdown \
  trainer.experiment_name="$EXPERIMENT_NAME" \
  trainer.default_local_dir="./models/$EXPERIMENT_NAME" \
  trainer.total_epochs=15 \
  "$@"
