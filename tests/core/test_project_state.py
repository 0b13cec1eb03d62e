"""The dataset sidecar: verified flags, last image, settings; corrupt files; 100,000 entries quickly."""

import json
import os
import time

from labeltrain.core.project_state import ProjectState


def test_round_trip_with_relative_forward_slash_paths(tmp_path):
    state = ProjectState.load(tmp_path)
    assert state.verified_count() == 0 and state.last_image is None and not state.problems
    img = tmp_path / "images" / "train" / "a.jpg"
    state.set_verified(img, True)
    state.set_verified("images/val/b.jpg", True)
    state.set_verified("images/val/b.jpg", True)
    state.last_image = img
    state.save_format = "voc"
    state.label_dir = tmp_path / "labels"
    assert state.save()
    assert not state.save()  # nothing changed since
    doc = json.loads((tmp_path / ".labeltrain" / "state.json").read_bytes())
    assert sorted(doc["verified"]) == ["images/train/a.jpg", "images/val/b.jpg"]
    assert doc["last_image"] == "images/train/a.jpg" and doc["label_dir"] == "labels"

    again = ProjectState.load(tmp_path)
    assert again.is_verified(img) and again.is_verified(str(img)) and again.is_verified("images/val/b.jpg")
    assert not again.is_verified(tmp_path / "images" / "train" / "c.jpg")
    assert again.verified_count() == 2
    assert again.resolve(again.last_image) == img
    assert again.save_format == "voc" and again.label_dir == tmp_path / "labels"
    again.set_verified(img, False)
    again.save()
    assert ProjectState.load(tmp_path).verified_count() == 1


def test_image_outside_root_is_stored_absolute(tmp_path):
    state = ProjectState.load(tmp_path / "ds")
    outside = tmp_path / "elsewhere" / "x.jpg"
    state.set_verified(outside, True)
    state.save()
    assert ProjectState.load(tmp_path / "ds").is_verified(outside)


def test_names_that_need_escaping(tmp_path):
    names = ['q"uote.jpg', "back\\slash.jpg", "tab\tname.jpg", "ünï cödé.jpg", "bad\udcff.jpg"]
    state = ProjectState.load(tmp_path)
    for name in names:
        state.set_verified(name, True)
    state.last_image = "bad\udcff.jpg"
    state.save()
    again = ProjectState.load(tmp_path)
    assert all(again.is_verified(n) for n in names) and again.verified_count() == len(names)
    assert again.last_image == "bad\udcff.jpg" and not again.problems
    only_plain = ProjectState.load(tmp_path / "other")
    only_plain.set_verified("ünï.jpg", True)
    only_plain.save()
    assert ProjectState.load(tmp_path / "other").is_verified("ünï.jpg")


def test_corrupt_file_starts_empty_keeps_a_backup_and_reports(tmp_path):
    path = tmp_path / ".labeltrain" / "state.json"
    path.parent.mkdir()
    path.write_bytes(b'{"verified": ["a.jpg", ')
    state = ProjectState.load(tmp_path)
    assert state.verified_count() == 0 and len(state.problems) == 1
    assert (tmp_path / ".labeltrain" / "state.json.bak").read_bytes() == b'{"verified": ["a.jpg", '
    state.set_verified("b.jpg", True)
    state.save()
    # a second corruption does not overwrite the first backup
    path.write_bytes(b'{"verified": 3}')
    state = ProjectState.load(tmp_path)
    assert state.problems and (tmp_path / ".labeltrain" / "state.json.1.bak").read_bytes() == b'{"verified": 3}'
    assert (tmp_path / ".labeltrain" / "state.json.bak").read_bytes() == b'{"verified": ["a.jpg", '
    path.write_bytes(b"\xff\xfe garbage")
    assert ProjectState.load(tmp_path).problems


def test_unknown_keys_are_kept(tmp_path):
    path = tmp_path / ".labeltrain" / "state.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "verified": [], "future": {"x": 1}}))
    state = ProjectState.load(tmp_path)
    state.set_verified("a.jpg", True)
    state.save()
    assert json.loads(path.read_text())["future"] == {"x": 1}


def test_100k_verified_images_save_and_load_quickly(tmp_path):
    state = ProjectState.load(tmp_path)
    images = [str(tmp_path / "images" / "train" / f"IMG_{i:06d}.jpg") for i in range(100_000)]
    t0 = time.perf_counter()
    for img in images:
        state.set_verified(img, True)
    mark = time.perf_counter() - t0
    saves = []
    for _ in range(3):
        t0 = time.perf_counter()
        state.save(force=True)
        saves.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = ProjectState.load(tmp_path)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    hits = sum(again.is_verified(img) for img in images)
    lookup = time.perf_counter() - t0
    assert hits == 100_000
    print(f"100k: mark {mark * 1000:.0f} ms, save {min(saves) * 1000:.1f} ms, load {load * 1000:.1f} ms, "
          f"lookups {lookup * 1000:.0f} ms")
    assert min(saves) < 0.05, saves   # the target: < 50 ms (best of 3: the machine is shared)
    assert load < 0.2 and lookup < 0.5
    assert os.path.getsize(tmp_path / ".labeltrain" / "state.json") < 3_500_000
