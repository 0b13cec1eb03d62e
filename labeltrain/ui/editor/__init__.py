"""The annotation editor: document with undo, canvas gestures, class popup, editing session."""
