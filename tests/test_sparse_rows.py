"""kefu.nlu.sparse_rows gives the numbers of the textbook product with a diagonal matrix."""
import numpy as np
import pytest
import scipy.sparse

from kefu.nlu.sparse_rows import l2_rows, scale_columns


def test_weighting_and_l2_rows_equal_the_diagonal_product():
    rng = np.random.default_rng(7)
    counts = scipy.sparse.random(6, 50, density=0.2, format="csr", random_state=7) * 5
    counts = scipy.sparse.vstack([counts, scipy.sparse.csr_matrix((1, 50))]).tocsr()  # an empty row
    idf = rng.random(50) + 1.0
    expected = (counts @ scipy.sparse.diags(idf)).toarray()
    norms = np.linalg.norm(expected, axis=1)
    norms[norms == 0] = 1.0
    got = l2_rows(scale_columns(counts, idf)).toarray()
    assert got == pytest.approx(expected / norms[:, None], abs=1e-12)
    assert not got[-1].any() and np.linalg.norm(got[0]) == pytest.approx(1.0)


def test_the_input_matrix_is_left_alone():
    counts = scipy.sparse.csr_matrix(np.array([[1.0, 2.0], [0.0, 3.0]]))
    scale_columns(counts, np.array([10.0, 100.0]))
    assert counts.toarray().tolist() == [[1.0, 2.0], [0.0, 3.0]]


def test_l2_rows_leaves_its_input_alone_and_keeps_all_zero_and_single_rows():
    counts = scipy.sparse.csr_matrix(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0], [0.0, 2.0, 0.0]]))
    got = l2_rows(counts)
    assert got.toarray().tolist() == [[0.0, 0.0, 0.0], [0.6, 0.0, 0.8], [0.0, 1.0, 0.0]]
    assert counts.toarray().tolist() == [[0.0, 0.0, 0.0], [3.0, 0.0, 4.0], [0.0, 2.0, 0.0]]
