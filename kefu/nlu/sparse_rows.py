"""Tf-idf weighting and L2 rows of sparse count matrices, cheap for one message at a time.

Multiplying by ``scipy.sparse.diags(idf)`` builds and converts a d×d matrix at every call:
29 ms a message for the complaint gate's 2^20 hashed columns, where weighting the stored
entries themselves makes the gate's whole feature computation 1.6 ms (same numbers).
"""
import numpy as np
import scipy.sparse


def scale_columns(matrix, weights: np.ndarray) -> scipy.sparse.csr_matrix:
    """A copy of ``matrix`` (CSR, float) with column j multiplied by ``weights[j]``."""
    scaled = scipy.sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    scaled.data *= weights[scaled.indices]
    return scaled


def l2_rows(matrix: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
    """A copy of ``matrix`` (CSR) with each row divided by its Euclidean length (empty
    rows stay empty). On the stored entries too: a product with a diagonal matrix
    allocates a row as wide as the matrix (2^20) for every call."""
    scaled = scipy.sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    row_of_entry = np.repeat(np.arange(scaled.shape[0]), np.diff(scaled.indptr))
    norms = np.sqrt(np.bincount(row_of_entry, weights=scaled.data ** 2, minlength=scaled.shape[0]))
    norms[norms == 0] = 1.0
    scaled.data /= norms[row_of_entry]
    return scaled
