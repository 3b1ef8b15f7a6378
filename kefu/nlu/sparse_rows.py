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
    """Each row divided by its Euclidean length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return scipy.sparse.diags(1.0 / norms) @ matrix
