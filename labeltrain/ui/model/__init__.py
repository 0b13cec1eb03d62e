"""The Model page: evaluate a trained model, export it (ONNX, TF.js, TFLite; verified), and walk the queue of
labels the model disputes. The heavy work runs as `labeltrain COMMAND --json` child processes (ui/cli_job.py)."""
