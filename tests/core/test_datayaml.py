"""data.yaml reading: tolerant, Ultralytics' wording, and agreement with check_det_dataset on what is an error."""

from pathlib import Path

import pytest

from labeltrain.core.datayaml import dump_data_yaml, load_data_yaml, write_data_yaml
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import Severity


def _dataset(tmp_path: Path) -> Path:
    for split in ("train", "val"):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split).mkdir(parents=True)
    return tmp_path


def _yaml(tmp_path: Path, text: str, name: str = "data.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _rules(dy) -> set[str]:
    return {p.rule for p in dy.problems}


def _ultralytics_accepts(path: Path) -> bool:
    from ultralytics.data.utils import check_det_dataset

    try:
        check_det_dataset(str(path), autodownload=False)
    except Exception:
        return False
    return True


def test_names_as_list(tmp_path):
    root = _dataset(tmp_path)
    dy = load_data_yaml(_yaml(root, "train: images/train\nval: images/val\nnames: [cat, dog]\n"))
    assert dy.ok, dy.problems
    assert dy.names == ClassNames(("cat", "dog"))
    assert dy.nc == 2
    assert dy.root == root
    assert dy.splits == {"train": [root / "images" / "train"], "val": [root / "images" / "val"]}


def test_names_as_dict_with_string_keys_and_nc(tmp_path):
    root = _dataset(tmp_path)
    dy = load_data_yaml(_yaml(root, "train: images/train\nval: images/val\nnc: 3\n"
                                    "names:\n  '0': a\n  1: b\n  2: c\n"))
    assert dy.ok, dy.problems
    assert list(dy.names) == ["a", "b", "c"]


def test_nc_without_names_gives_placeholder_names(tmp_path):
    root = _dataset(tmp_path)
    dy = load_data_yaml(_yaml(root, "train: images/train\nval: images/val\nnc: '3'\n"))
    assert dy.ok, dy.problems
    assert list(dy.names) == ["class0", "class1", "class2"]
    assert dy.nc == 3


def test_path_key_relative_to_yaml_folder_and_absolute(tmp_path):
    root = _dataset(tmp_path / "ds")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    dy = load_data_yaml(_yaml(cfg, "path: ../ds\ntrain: images/train\nval: images/val\nnames: [a]\n"))
    assert dy.root == root
    assert dy.splits["val"] == [root / "images" / "val"]
    assert "datayaml.relative_path" in _rules(dy)  # the trainer would resolve it against its working dir
    assert not dy.problems.errors()
    dy = load_data_yaml(_yaml(cfg, f"path: {root}\ntrain: images/train\nval: images/val\nnames: [a]\n"))
    assert dy.ok and not dy.problems and dy.root == root


def test_split_lists_and_lists_of_folders(tmp_path):
    root = _dataset(tmp_path)
    (root / "extra").mkdir()
    (root / "train.txt").write_text("./images/train/a.jpg\n")
    dy = load_data_yaml(_yaml(root, "train: [train.txt, extra]\nval: images/val\ntest: images/test\nnames: [a]\n"))
    assert dy.splits["train"] == [root / "train.txt", root / "extra"]
    # a missing test folder is only a warning; train/val are errors
    missing = [p for p in dy.problems if p.rule == "datayaml.split_path"]
    assert len(missing) == 1 and missing[0].severity == Severity.WARNING and dy.ok


def test_validation_key_is_renamed_with_a_warning(tmp_path):
    root = _dataset(tmp_path)
    dy = load_data_yaml(_yaml(root, "train: images/train\nvalidation: images/val\nnames: [a]\n"))
    assert dy.ok
    assert dy.splits["val"] == [root / "images" / "val"]
    assert "datayaml.keys" in _rules(dy)


def test_bom_and_empty_file(tmp_path):
    root = _dataset(tmp_path)
    p = root / "data.yaml"
    p.write_bytes(b"\xef\xbb\xbftrain: images/train\nval: images/val\nnames: [a]\n")
    assert load_data_yaml(p).ok
    p.write_text("")
    dy = load_data_yaml(p)
    assert {"datayaml.keys", "datayaml.names"} <= _rules(dy)


def test_missing_file_is_a_problem_not_an_exception(tmp_path):
    dy = load_data_yaml(tmp_path / "nope.yaml")
    assert _rules(dy) == {"datayaml.missing"}


# --- the broken corpus: every case is an error for us and a rejection for the trainer ------------------------
BROKEN = {
    "syntax_error": ("train: images/train\nval: images/val\nnames: [a, b\nnc: 2\n", "datayaml.syntax", 4),
    "tab_indent_syntax": ("train: images/train\nval: images/val\nnames:\n\t- a\n", "datayaml.syntax", 4),
    "names_nc_mismatch": ("train: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n", "datayaml.nc", 3),
    "missing_val": ("train: images/train\nnames: [a]\n", "datayaml.keys", None),
    "missing_train": ("val: images/val\nnames: [a]\n", "datayaml.keys", None),
    "names_dict_gap": ("train: images/train\nval: images/val\nnames:\n  0: a\n  2: c\n", "datayaml.names", 3),
    "not_a_mapping_list": ("- train\n- val\n", "datayaml.not_mapping", 1),
    "not_a_mapping_scalar": ("just text\n", "datayaml.not_mapping", 1),
    "names_wrong_type": ("train: images/train\nval: images/val\nnames: abc\n", "datayaml.type", 3),
    "train_wrong_type": ("train: 123\nval: images/val\nnames: [a]\n", "datayaml.type", 1),
    "nc_not_integer": ("train: images/train\nval: images/val\nnc: 1.5\n", "datayaml.nc", 3),
    "no_names_no_nc": ("train: images/train\nval: images/val\n", "datayaml.names", None),
    "missing_val_folder": ("train: images/train\nval: images/nope\nnames: [a]\n", "datayaml.split_path", 2),
    "zero_classes": ("train: images/train\nval: images/val\nnames: []\n", "datayaml.names", 3),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_corpus(tmp_path, case):
    text, rule, line = BROKEN[case]
    root = _dataset(tmp_path)
    path = _yaml(root, text)
    dy = load_data_yaml(path)  # never raises
    matching = [p for p in dy.problems if p.rule == rule and p.severity == Severity.ERROR]
    assert matching, dy.problems
    if line is not None:
        assert matching[0].line == line, matching[0]
    assert matching[0].file == path
    assert not dy.ok
    assert not _ultralytics_accepts(path), "the trainer accepts what we call an error"


def test_messages_reuse_the_trainers_wording(tmp_path):
    root = _dataset(tmp_path)
    dy = load_data_yaml(_yaml(root, BROKEN["names_nc_mismatch"][0]))
    assert any("'names' length 2 and 'nc: 3' must match." in p.message for p in dy.problems)
    dy = load_data_yaml(_yaml(root, BROKEN["missing_val"][0]))
    assert any("'val:' key missing" in p.message and "'train' and 'val' are required in all data YAMLs" in p.message
               for p in dy.problems)
    dy = load_data_yaml(_yaml(root, BROKEN["names_dict_gap"][0]))
    assert any("2-class dataset requires class indices 0-1" in p.message for p in dy.problems)
    assert list(dy.names) == ["a", "class1", "c"]  # ids are kept; the gap gets a placeholder


@pytest.mark.parametrize("text", [
    "train: images/train\nval: images/val\nnames: [a, b]\n",
    "train: images/train\nval: images/val\nnc: 2\nnames: {0: a, 1: b}\n",
    "train: images/train\nval: images/val\nnc: 2\n",
    "train: [images/train]\nval: images/val\nnames: ['yes', 'null']\n",
])
def test_good_files_are_accepted_by_us_and_the_trainer(tmp_path, text):
    root = _dataset(tmp_path)
    path = _yaml(root, text)
    assert load_data_yaml(path).ok
    assert _ultralytics_accepts(path)


def test_write_round_trip_and_trainer_accepts(tmp_path):
    root = _dataset(tmp_path)
    names = ClassNames(("cat", "dög", "yes", "1"))
    path = root / "data.yaml"
    write_data_yaml(path, root, {"train": "images/train", "val": ["images/val"]}, names)
    text = path.read_text(encoding="utf-8")
    assert "path:" not in text  # the YAML's own folder: omitted so the dataset can move
    dy = load_data_yaml(path)
    assert dy.ok, dy.problems
    assert dy.names == names
    assert dy.splits == {"train": [root / "images" / "train"], "val": [root / "images" / "val"]}
    assert _ultralytics_accepts(path)
    elsewhere = tmp_path / "elsewhere.yaml"
    write_data_yaml(elsewhere, root / "images", {"train": "train", "val": "val"}, names)
    dy = load_data_yaml(elsewhere)
    assert dy.root == root / "images" and dy.ok
    assert f"path: {root / 'images'}" in elsewhere.read_text(encoding="utf-8")


def test_dump_keeps_key_order():
    text = dump_data_yaml(Path("/x/data.yaml"), "/x", {"val": "v.txt", "train": "t.txt"}, ClassNames(("a",)))
    keys = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert keys == ["train", "val", "nc", "names"]
