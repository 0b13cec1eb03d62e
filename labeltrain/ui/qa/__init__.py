"""Dataset QA views: the live previewer (boxes parsed from disk as the trainer parses them), the findings list,
the class crop gallery, the trainer's eye (a batch from the real Ultralytics dataloader) and dataset health.

`labeltrain.ui.qa.panel.QAPanel` combines them; `QAStore` (store.py) is the shared, file-watched model.
Modules: records (pure: what a tile knows), store + watch (live model), thumbs + crops (off-thread pixels),
tile_model / tile_delegate / filters / previewer, gallery, findings_model / findings_view, batch_view /
trainers_eye, health, paint (shared drawing), workers (threads).
"""
