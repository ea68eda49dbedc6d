"""einsum: sums of products named by index letters, e.g. "ij,jk->ik" is a matrix product.

    y[out] = sum over the letters not in out of  prod_k x_k[letters of x_k]

Any subscript string NumPy accepts works: explicit ("ij,jk->ik") or implicit ("ij,jk": the
letters that appear once, in alphabetical order), "..." for leading axes (broadcast), a
letter repeated in one operand ("ii->i" a diagonal, "ii->" a trace), letters summed away
("ij->"), several operands ("ij,jk,kl->il").

Backward. y is linear in each operand, so dL/dx_k is again an einsum: of dL/dy with all the
other operands, giving x_k's letters:

    dL/dx_k[letters of x_k] = einsum(out, other operands -> letters of x_k)(dL/dy, x_j...)

Two cases need a constant operand so that einsum can write x_k's letters:
  * a letter only x_k has (summed away inside x_k, "ij->i"): every x_k element along it
    gets the same gradient, so a vector of ones with that letter is multiplied in;
  * a letter x_k repeats ("ii"): only the diagonal was read, so the gradient is written
    onto the diagonal by an identity matrix joining the letter to a fresh one ("i,ij->ij").
The backward is an einsum of Tensors, so it can be differentiated again.

Shapes: a letter's size must agree across the operands, or be 1 there (broadcast, as NumPy
allows); broadcast operands are expanded with broadcast_to first, whose backward sums the
gradient back.
"""

import string

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import as_tensor, check_same_device, constant

LETTERS = string.ascii_letters


class Einsum(Function):
    """y = einsum("terms[0],terms[1],...->output", *operands), every term explicit (letters
    only, no "..."), every letter's size equal across the operands (see the module
    docstring for the equation and the derivative)."""

    def forward(self, *operands, terms, output):
        self.terms, self.out_term = terms, output
        return self.xp.einsum(",".join(terms) + "->" + output, *operands,
                              optimize=len(operands) > 2)

    def backward(self, grad):
        grads = []
        for k, (term, needed) in enumerate(zip(self.terms, self.needs_input_grad)):
            grads.append(self._operand_gradient(grad, k) if needed else None)
        return tuple(grads)

    def _operand_gradient(self, grad, k):
        term, x = self.terms[k], self.inputs[k]
        others = [t for j, t in enumerate(self.terms) if j != k]
        seen_elsewhere = set(self.out_term).union(*others)
        terms = [self.out_term] + others
        operands = [grad] + [t for j, t in enumerate(self.inputs) if j != k]
        unused = [c for c in LETTERS if c not in set("".join(self.terms) + self.out_term)]
        target = ""
        xp, dtype = grad.xp, grad.dtype
        for position, letter in enumerate(term):
            size = x.shape[position]
            if letter in target:  # a repeated letter: write onto the diagonal
                fresh = unused.pop(0)
                terms.append(letter + fresh)
                operands.append(constant(xp.eye(size, dtype=dtype), like=grad))
                target += fresh
                continue
            if letter not in seen_elsewhere and term.count(letter) == 1:  # summed inside x_k
                terms.append(letter)
                operands.append(constant(xp.ones(size, dtype=dtype), like=grad))
            target += letter
        return Einsum.apply(*operands, terms=tuple(terms), output=target)


def _parse(subscripts, operands):
    """The explicit terms and output of ``subscripts`` for these operands (see the module
    docstring): "..." replaced by letters the string does not use, right-aligned."""
    if not isinstance(subscripts, str):
        raise ShapeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got "
                         f"{type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(f"einsum: '{subscripts}' names {len(terms)} operands, got "
                         f"{len(operands)}")
    for part in terms + ([output] if arrow else []):
        if part.count("...") > 1 or any(c not in LETTERS for c in part.replace("...", "")):
            raise ShapeError(f"einsum: '{subscripts}' has a term '{part}' that is not letters "
                             "with at most one '...'")
    free = [c for c in LETTERS if c not in spec]
    widths = []
    for term, x in zip(terms, operands):
        named = len(term.replace("...", ""))
        width = x.ndim - named
        if width < 0 or (width and "..." not in term):
            raise ShapeError(f"einsum: term '{term}' of '{subscripts}' names {named} axes, "
                             f"the operand has shape {x.shape}")
        widths.append(width)
    batch = free[:max(widths, default=0)]
    terms = [t.replace("...", "".join(batch[len(batch) - w:])) for t, w in zip(terms, widths)]
    letters = "".join(terms)
    if arrow:
        output = output.replace("...", "".join(batch))
    else:  # implicit: the "..." axes, then the letters used once, alphabetically
        output = "".join(batch) + "".join(sorted(c for c in set(letters)
                                                 if c not in batch and letters.count(c) == 1))
    for c in output:
        if output.count(c) > 1 or c not in letters:
            raise ShapeError(f"einsum: output letter '{c}' of '{subscripts}' is repeated or "
                             "in no operand")
    return terms, output


def einsum(subscripts, *operands):
    """einsum("ij,jk->ik", a, b) and every subscript string NumPy accepts; the operands may
    also be given as one list (einsum("ij,jk", [a, b]), as PyTorch allows). See the module
    docstring for the rules, the equation and the derivative."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [as_tensor(x, "einsum") for x in operands]
    if not operands:
        raise ShapeError("einsum: needs at least one operand")
    check_same_device("einsum", *operands)
    terms, output = _parse(subscripts, operands)
    sizes = {}
    for term, x in zip(terms, operands):
        for letter, size in zip(term, x.shape):
            known = sizes.get(letter, 1)
            if size != known and 1 not in (size, known):
                raise ShapeError(f"einsum: letter '{letter}' of '{subscripts}' has size {known} "
                                 f"in one operand and {size} in another (shapes "
                                 f"{[t.shape for t in operands]})")
            sizes[letter] = max(size, known)
    for position, (term, x) in enumerate(zip(terms, operands)):
        wanted = tuple(sizes[letter] for letter in term)
        if x.shape != wanted:  # a size-1 axis broadcast against the others
            if len(set(term)) != len(term):
                raise ShapeError(f"einsum: operand {position} repeats a letter of size 1 that "
                                 "others have larger; broadcast it explicitly first")
            operands[position] = x.broadcast_to(wanted)
    if len({x.dtype.kind == "f" for x in operands}) > 1:  # int with float: PyTorch's promotion
        operands = [x if x.dtype.kind == "f" else x.float() for x in operands]
    return Einsum.apply(*operands, terms=tuple(terms), output=output)
