"""labeltrain.training: YOLO training without Qt (see docs/ARCHITECTURE.md). ultralytics/torch are imported only
inside the worker process, so importing this package stays fast.

config (TrainConfig, YAML) · validation (plain-language checks) · presets (augmentation) · env (offline-safe
Ultralytics environment) · events (event records, events.jsonl) · reader (EventFollower, results.csv) ·
runner (TrainingRun: child process, poll/stop/resume) · worker (the child) · callbacks (trainer -> events) ·
failures (classification) · runs (run folders, history) · data_prep (folder -> split data.yaml) · console
(`labeltrain train`).
"""
