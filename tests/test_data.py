"""helpers.data and helpers.characters: shapes, checksums, clear errors, seeded subsets, the shipped letters."""

import gzip
import shutil

import pytest
import torch

from helpers import characters, data
from helpers.core import DataError
from tools import letters as letters_tool

FILES = [name for name, _ in data.FASHION_FILES.values()]


@pytest.fixture(autouse=True)
def shipped_data(monkeypatch):
    """Every test reads the copy in data/ unless it says otherwise."""
    monkeypatch.delenv(data.DATA_DIR_VARIABLE, raising=False)


@pytest.fixture
def copy_of_data(tmp_path):
    """A folder holding copies of the four Fashion-MNIST files, free to be damaged."""
    for name in FILES:
        shutil.copyfile(data.REPO_DATA_DIR / name, tmp_path / name)
    return tmp_path


# --- Fashion-MNIST ------------------------------------------------------------------


@pytest.mark.parametrize("split, size", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_shapes_types_and_classes(split, size):
    dataset = data.load_fashion_mnist(split)
    assert dataset.images.shape == (size, 28, 28)
    assert dataset.images.dtype == torch.uint8
    assert dataset.labels.shape == (size,)
    assert dataset.labels.dtype == torch.int64
    assert dataset.labels.min() == 0 and dataset.labels.max() == 9
    assert dataset.classes == data.FASHION_CLASSES
    assert dataset.classes[0] == "T-shirt/top" and dataset.classes[9] == "Ankle boot"
    assert set(dataset.counts().values()) == {size // 10}  # balanced: 6,000 or 1,000 per class


def test_second_load_is_the_cached_object():
    assert data.load_fashion_mnist("train") is data.load_fashion_mnist("train")


def test_unknown_split_is_refused():
    with pytest.raises(DataError, match="'test'"):
        data.load_fashion_mnist("validation")


def test_verify_reports_every_file_ok():
    letter_files = [data.LETTERS_DIR / name for name, _ in data.LETTER_FILES.values()]
    assert data.verify() == dict.fromkeys([data.REPO_DATA_DIR / name for name in FILES] + letter_files, "ok")


def test_a_copy_in_another_folder_loads(copy_of_data):
    assert data.data_dir(str(copy_of_data)) == copy_of_data
    copy = data.load_fashion_mnist("test", where=str(copy_of_data))
    shipped = data.load_fashion_mnist("test")
    assert torch.equal(copy.images, shipped.images) and torch.equal(copy.labels, shipped.labels)


def test_truncated_file_names_the_file(copy_of_data):
    damaged = copy_of_data / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"(?i)gzip|checksum") as error:
        data.verify(str(copy_of_data))
    assert "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_altered_content_in_a_valid_gzip_is_a_checksum_mismatch(copy_of_data):
    path = copy_of_data / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # relabel the last test image: still a well-formed IDX file
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="Checksum mismatch") as error:
        data.load_fashion_mnist("test", where=str(copy_of_data))
    assert "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_missing_file_says_so(copy_of_data):
    (copy_of_data / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="Missing data file") as error:
        data.load_fashion_mnist("test", where=str(copy_of_data))
    assert "t10k-images-idx3-ubyte.gz" in str(error.value)


def test_data_dir_variable_used_when_set(monkeypatch, copy_of_data):
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(copy_of_data))
    assert data.data_dir() == copy_of_data


def test_data_dir_variable_naming_a_non_folder(monkeypatch, tmp_path):
    not_a_folder = tmp_path / "fashion.txt"
    not_a_folder.write_text("not a folder")
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(not_a_folder))
    with pytest.raises(DataError, match=data.DATA_DIR_VARIABLE) as error:
        data.load_fashion_mnist("test")
    assert "fashion.txt" in str(error.value)


def test_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        data.data_dir(str(tmp_path / "nowhere"))


# --- tasks: class splits and few-shot subsets ------------------------------------------


def test_split_classes_renumbers_in_the_order_given():
    full = data.load_fashion_mnist("test")
    task = data.split_classes(full, ("Bag", "Trouser"))
    assert task.classes == ("Bag", "Trouser")
    assert sorted(task.labels.unique().tolist()) == [0, 1]
    assert task.counts() == {"Bag": 1000, "Trouser": 1000}
    bags = full.images[full.labels == full.classes.index("Bag")]
    assert torch.equal(task.images[task.labels == 0], bags)


def test_named_splits_of_fashion_mnist():
    clothes, shoes = data.clothes_task("test"), data.shoes_and_bags_task("test")
    assert clothes.classes == data.CLOTHES and shoes.classes == data.SHOES_AND_BAGS
    assert clothes.labels.max() == len(data.CLOTHES) - 1 and shoes.labels.max() == len(data.SHOES_AND_BAGS) - 1
    assert len(clothes) + len(shoes) == 10_000


def test_unknown_class_name_lists_the_known_ones():
    with pytest.raises(DataError, match="Known classes") as error:
        data.split_classes(data.load_fashion_mnist("test"), ("Bag", "Hat"))
    assert "'Hat'" in str(error.value) and "Ankle boot" in str(error.value)


def test_few_shot_gives_exactly_n_per_class():
    subset = data.few_shot(data.load_fashion_mnist("test"), 5, seed=0)
    assert len(subset) == 50
    assert set(subset.counts().values()) == {5}
    assert subset.classes == data.FASHION_CLASSES


def test_few_shot_same_seed_same_subset_other_seed_other_subset():
    train, _ = data.load_digits()
    first, again, other = (data.few_shot(train, 3, seed=s) for s in (0, 0, 1))
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.images, other.images)


def test_few_shot_asking_for_too_many_says_how_many_exist():
    train, _ = data.load_digits()
    smallest = min(train.counts().values())
    with pytest.raises(DataError, match=f"smallest class has {smallest} examples"):
        data.few_shot(train, smallest + 1)
    with pytest.raises(DataError):
        data.few_shot(train, 0)


# --- scikit-learn's handwritten digits ------------------------------------------------


def test_digits_are_28x28_uint8_with_ten_classes():
    train, test = data.load_digits()
    for part in (train, test):
        assert part.images.shape[1:] == (28, 28) and part.images.dtype == torch.uint8
        assert part.labels.dtype == torch.int64
        assert part.classes == tuple("0123456789")
        assert sorted(part.labels.unique().tolist()) == list(range(10))
    assert train.images.max() == 255  # full ink maps to full white, like Fashion-MNIST
    assert data.target_task("test") is test


def test_digits_validation_is_held_out_of_the_training_pool():
    half, _ = data.load_digits()
    train, val = data.target_task("train"), data.target_task("val")
    assert len(train) + len(val) == len(half) == 898
    assert set(val.counts().values()) == {data.VAL_PER_CLASS}
    both = torch.cat([train.images, val.images]).flatten(1)
    assert len(torch.unique(both, dim=0)) == 898  # disjoint: no scan in both
    assert data.target_task("train") is train  # cached: every notebook sees the same split


def test_digits_split_is_reproducible_and_disjoint():
    train, test = data.load_digits()
    fresh_train, fresh_test = data.load_digits.__wrapped__()  # bypass the cache: recompute
    assert torch.equal(train.images, fresh_train.images) and torch.equal(test.labels, fresh_test.labels)
    assert len(train) + len(test) == 1797
    # The 1,797 scans are all different, so a split is disjoint exactly when nothing repeats.
    everything = torch.cat([train.images, test.images]).flatten(1)
    assert len(torch.unique(everything, dim=0)) == 1797
    other_train, _ = data.load_digits(seed=1)
    assert not torch.equal(train.images, other_train.images)


# --- printed letters (the source task) ---------------------------------------------


def test_generate_is_deterministic_for_a_seed():
    first, again, other = characters.generate(2, seed=0), characters.generate(2, seed=0), characters.generate(2, seed=1)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.images, other.images)


def test_generate_shapes_and_labels():
    letters = characters.generate(3, seed=0)
    num_classes = len(characters.LETTERS)
    assert num_classes == 37 and letters.classes == tuple(characters.LETTERS)
    assert letters.images.shape == (3 * num_classes, 28, 28) and letters.images.dtype == torch.uint8
    assert letters.labels.dtype == torch.int64
    assert letters.labels.min() == 0 and letters.labels.max() == num_classes - 1
    assert set(letters.counts().values()) == {3}
    assert letters.images.float().mean() > 5  # there is ink on the canvas


@pytest.mark.parametrize("split, per_letter", [("train", 800), ("test", 200)])
def test_the_shipped_letters_load_verified(split, per_letter):
    letters = data.load_letters(split)
    assert letters.classes == tuple(characters.LETTERS)
    assert letters.images.shape == (37 * per_letter, 28, 28) and letters.images.dtype == torch.uint8
    assert letters.labels.dtype == torch.int64 and set(letters.counts().values()) == {per_letter}
    assert data.source_task(split) is letters  # the lessons' source task is the shipped file, read once


@pytest.fixture
def copy_of_letters(monkeypatch, tmp_path):
    """The four letter files copied to a folder the loader reads instead, free to be damaged."""
    for name, _ in data.LETTER_FILES.values():
        shutil.copyfile(data.LETTERS_DIR / name, tmp_path / name)
    monkeypatch.setattr(data, "LETTERS_DIR", tmp_path)
    data.load_letters.cache_clear()
    yield tmp_path
    data.load_letters.cache_clear()


def test_altered_letters_are_a_checksum_mismatch(copy_of_letters):
    path = copy_of_letters / "letters-test-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1  # one grey level of one pixel: a well-formed file, another rendering
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="Checksum mismatch.*printed letters") as error:
        data.load_letters("test")
    assert "letters-test-images-idx3-ubyte.gz" in str(error.value)
    data.load_letters("train")  # the other split still loads


def test_missing_letters_say_which_file_and_how_to_restore(copy_of_letters):
    (copy_of_letters / "letters-train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="Missing data file.*letters-train-labels-idx1-ubyte.gz"):
        data.load_letters("train")
    shipped = data.REPO_DATA_DIR / "letters" / "letters-train-labels-idx1-ubyte.gz"
    assert data._restore_command(shipped) == "git checkout -- data/letters/"


def test_a_rebuild_writes_the_shipped_bytes_back(tmp_path):
    """Given the shipped letters, the rebuild tool writes files whose content checksums are the shipped ones."""
    sums = letters_tool.write_split(data.load_letters("test"), "test", tmp_path)
    assert sums == {name: sha for (split, _), (name, sha) in data.LETTER_FILES.items() if split == "test"}
    for name, sha in sums.items():  # what is on disk, read back as the loader reads it
        data._read_verified(tmp_path / name, sha, "printed letters")
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow  # seconds of training or waiting: in make test, not make test-fast
def test_rendering_is_repeatable_and_within_tolerance_of_the_shipped_letters():
    first, again = characters.render("test"), characters.render("test")
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    difference = letters_tool.compare(first, data.load_letters("test"))
    assert difference.within_tolerance(), f"this machine renders the letters too differently: {difference}"


def test_the_tolerance_catches_a_changed_generator():
    shipped = data.load_letters("test")
    brighter = data.Dataset(shipped.images.clamp(max=250) + 5, shipped.labels, shipped.classes)  # every pixel moves
    assert not letters_tool.compare(brighter, shipped).within_tolerance()
    one_image = shipped.images.clone()
    one_image[0] = 255 - one_image[0]
    difference = letters_tool.compare(data.Dataset(one_image, shipped.labels, shipped.classes), shipped)
    assert difference.images == pytest.approx(1 / len(shipped)) and difference.max_levels == 255
    with pytest.raises(ValueError, match="generator changed"):
        letters_tool.compare(data.Dataset(shipped.images, shipped.labels.roll(1), shipped.classes), shipped)


def test_tasks_refuse_an_unknown_split_with_a_data_error():
    for task in (data.source_task, data.target_task):
        with pytest.raises(DataError, match="'test'"):
            task("validation")
