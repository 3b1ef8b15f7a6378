#!/usr/bin/env bash
# Trains the model when it is missing or older than what it is trained from.
# Rasa's own cache sees neither the emotion data (read by our component from
# data/emotion/) nor the code of kefu's components (kefu/emotion, kefu/nlu), so a
# change there forces a full retrain.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=models/.trained
inputs=(config.yml domain.yml data kefu/emotion kefu/nlu)
if [ -f "$stamp" ] && [ -f models/kefu.tar.gz ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" -type f -print -quit)" ]; then
  echo "model is up to date: models/kefu.tar.gz"; exit 0
fi
force=()
if [ -f "$stamp" ] && [ -n "$(find data/emotion kefu/emotion kefu/nlu -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
  force=(--force)
fi
mkdir -p models
.venv/bin/rasa train --fixed-model-name kefu --out models "${force[@]}"
touch "$stamp"
