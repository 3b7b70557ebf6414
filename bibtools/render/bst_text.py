r"""BibTeX's string functions, as ``bibtex`` computes them, byte for byte.

A ``.bst`` style formats names, changes case and builds labels with
BibTeX's built-in functions (``format.name$``, ``change.case$``,
``purify$``, ``text.length$``, ``text.prefix$``, ``add.period$``,
``num.names$``).  pybtex's interpreter approximates them on Unicode text;
``bibtex`` works on bytes: a UTF-8 character is two to four "letters" to
it, only ASCII letters change case, a name token of three CJK characters is
nine characters long.  These functions follow bibtex's definitions (the
rules of ``bibtex.web``, section by section, re-expressed here) on *byte
strings*: Python strings whose non-ASCII characters are single bytes,
escaped as the lone surrogates U+DC80..U+DCFF (``bytes.decode("ascii",
"surrogateescape")``, see :func:`to_bytestr`).  So every length, prefix
and case change is bibtex's, and nothing (a regular expression's ``\s``,
``str.lower``) can mistake half of a UTF-8 character for a space or a
letter.

One deliberate difference: where bibtex cuts a UTF-8 character in two (the
first "letter" of ``Émile`` abbreviated, a label prefix ending inside a
character) it writes an invalid byte, which pdflatex rejects.  Here the
character's remaining bytes follow as *ghosts* (U+DB80..U+DBBF) that every
length and prefix ignores, so the style's logic runs exactly as in bibtex
and the output shows ``É.``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Control sequences BibTeX knows as foreign letters (bibtex.web's control_seq_ilk).
_LOWER_LETTERS = {"i", "j", "oe", "ae", "aa", "o", "l", "ss"}
_UPPER_LETTERS = {"OE", "AE", "AA", "O", "L"}
_KNOWN = _LOWER_LETTERS | _UPPER_LETTERS
_WHITE = " \t"
_SEP = "~-"


def to_bytestr(text: str) -> str:
    """Unicode text -> a byte string (one character per UTF-8 byte)."""
    return text.encode("utf-8").decode("ascii", "surrogateescape")


_GHOST = 0xDB00  # a ghost byte b is chr(_GHOST + b); a real one chr(0xDC00 + b)
_UNGHOST = {_GHOST + b: 0xDC00 + b for b in range(0x80, 0xC0)}


def from_bytestr(raw: str) -> str:
    """A byte string -> Unicode text; bytes that are not UTF-8 become U+FFFD."""
    return raw.translate(_UNGHOST).encode("ascii", "surrogateescape").decode("utf-8", "replace")


def _ghost(ch: str) -> str:
    """A continuation byte that no length counts (see the module docstring)."""
    return chr(ord(ch) - 0xDC00 + _GHOST)


def _is_ghost(ch: str) -> bool:
    return "\udb80" <= ch <= "\udbbf"


def bytes_to_bytestr(data: bytes) -> str:
    return data.decode("ascii", "surrogateescape")


def _is_alpha(ch: str) -> bool:
    # bibtex's lex_class: ASCII letters and every byte >= 128 are "alpha".
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch >= "\udc80"


def _is_white(ch: str) -> bool:
    return ch in _WHITE


def _lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _upper(text: str) -> str:
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in text)


def _continuation(ch: str) -> bool:
    """A UTF-8 continuation byte (0x80..0xBF) in a byte string."""
    return "\udc80" <= ch <= "\udcbf"


# --------------------------------------------------------------------------
# change.case$


def change_case(s: str, mode: str) -> str:
    """``change.case$``: ``t`` (lower all but the first letter and letters
    after a colon and white space), ``l`` or ``u``; text in braces is kept,
    except in a special character (``{\\'E}``, ``{\\em X}``), whose text
    (not its command names) is converted."""
    conv = mode[:1].lower()
    if conv not in ("t", "l", "u"):
        return s
    convert = _upper if conv == "u" else _lower
    out: list[str] = []
    n = len(s)
    i = 0
    level = 0
    prev_colon = False
    while i < n:
        c = s[i]
        if c == "{":
            level += 1
            special = level == 1 and i + 4 <= n and s[i + 1] == "\\"
            if special and conv == "t" and (i == 0 or (prev_colon and _is_white(s[i - 1]))):
                special = False
            out.append(c)
            i += 1
            if special:
                i = _convert_special(s, i, conv, out)
                level = 0
            prev_colon = False
            continue
        if c == "}":
            if level > 0:
                level -= 1
            out.append(c)
            prev_colon = False
        elif level == 0:
            if conv == "t":
                if not (i == 0 or (prev_colon and _is_white(s[i - 1]))):
                    c = _lower(c)
                if c == ":":
                    prev_colon = True
                elif not _is_white(c):
                    prev_colon = False
            else:
                c = convert(c)
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _convert_special(s: str, i: int, conv: str, out: list[str]) -> int:
    """Convert the special character whose backslash is at ``i``; return the index after it."""
    n = len(s)
    level = 1
    while i < n and level > 0:
        i += 1  # the backslash
        start = i
        while i < n and _is_alpha(s[i]):
            i += 1
        name = s[start:i]
        if name in _KNOWN:
            if conv in ("t", "l") and name in _UPPER_LETTERS:
                name = _lower(name)
            elif conv == "u" and name in ("l", "o", "oe", "ae", "aa"):
                name = _upper(name)
            elif conv == "u" and name in ("i", "j", "ss"):
                # \ss -> SS, \i -> I: the command becomes the letters.
                out.append(_upper(name))
                while i < n and _is_white(s[i]):
                    i += 1
                name = None  # type: ignore[assignment]
        if name is not None:
            out.append("\\" + name)
        start = i
        while i < n and level > 0 and s[i] != "\\":
            if s[i] == "}":
                level -= 1
            elif s[i] == "{":
                level += 1
            i += 1
        chunk = s[start:i]
        out.append(_upper(chunk) if conv == "u" else _lower(chunk))
    return i


# --------------------------------------------------------------------------
# purify$, text.length$, text.prefix$, add.period$


def purify(s: str) -> str:
    """``purify$``: letters, digits and spaces (for ``-``, ``~`` and white space) only."""
    out: list[str] = []
    n = len(s)
    i = 0
    level = 0
    while i < n:
        c = s[i]
        if _is_white(c) or c in _SEP:
            out.append(" ")
        elif _is_ghost(c):
            pass
        elif _is_alpha(c) or (c.isdigit() and c.isascii()):
            out.append(c)
        elif c == "{":
            level += 1
            if level == 1 and i + 1 < n and s[i + 1] == "\\":
                i = _purify_special(s, i + 1, out)
                level = 0
                continue
        elif c == "}" and level > 0:
            level -= 1
        i += 1
    return "".join(out)


def _purify_special(s: str, i: int, out: list[str]) -> int:
    n = len(s)
    level = 1
    while i < n and level > 0:
        i += 1  # the backslash
        start = i
        while i < n and _is_alpha(s[i]):
            i += 1
        name = s[start:i]
        if name in _KNOWN:
            # \oe -> oe, \ss -> ss, \o -> o, \aa -> a
            out.append(name if name in ("oe", "OE", "ae", "AE", "ss") else name[0])
        while i < n and level > 0 and s[i] != "\\":
            c = s[i]
            if _is_alpha(c) or (c.isdigit() and c.isascii()):
                out.append(c)
            elif c == "}":
                level -= 1
            elif c == "{":
                level += 1
            i += 1
    return i


def _skip_special(s: str, i: int, end: int) -> int:
    """From the backslash of a special character at ``i``, the index after its closing brace."""
    level = 1
    i += 1
    while i < end and level > 0:
        if s[i] == "}":
            level -= 1
        elif s[i] == "{":
            level += 1
        i += 1
    return i


def text_length(s: str) -> int:
    """``text.length$``: characters, braces not counted, a special character counting one."""
    n = len(s)
    i = 0
    level = 0
    count = 0
    while i < n:
        c = s[i]
        i += 1
        if c == "{":
            level += 1
            if level == 1 and i < n and s[i] == "\\":
                i = _skip_special(s, i, n)
                level = 0
                count += 1
        elif c == "}":
            if level > 0:
                level -= 1
        elif not _is_ghost(c):
            count += 1
    return count


def text_prefix(s: str, count: int) -> str:
    """``text.prefix$``: the first ``count`` characters, as :func:`text_length` counts, braces closed."""
    if count <= 0:
        return ""
    n = len(s)
    i = 0
    level = 0
    seen = 0
    while i < n and seen < count:
        c = s[i]
        i += 1
        if c == "{":
            level += 1
            if level == 1 and i < n and s[i] == "\\":
                i = _skip_special(s, i, n)
                level = 0
                seen += 1
        elif c == "}":
            if level > 0:
                level -= 1
        elif not _is_ghost(c):
            seen += 1
    prefix = s[:i]
    while i < n and (_continuation(s[i]) or _is_ghost(s[i])):  # never half a character
        prefix += s[i] if _is_ghost(s[i]) else _ghost(s[i])
        i += 1
    return prefix + "}" * level


def add_period(s: str) -> str:
    """``add.period$``: a period unless the last non-brace character ends a sentence."""
    if not s:
        return s
    stripped = s.rstrip("}")
    last = stripped[-1] if stripped else s[0]
    return s if last in ".?!" else s + "."


# --------------------------------------------------------------------------
# Names


def split_names(s: str) -> list[str]:
    """The names of a name list (``num.names$`` counts them): split at ``and``
    (any case) between white space at brace level 0."""
    names: list[str] = []
    n = len(s)
    i = 0
    while i < n:
        start = i
        end = n
        preceding_white = False
        found = False
        while i < n and not found:
            c = s[i]
            if c in "aA":
                i += 1
                if (
                    preceding_white
                    and i <= n - 3
                    and s[i] in "nN"
                    and s[i + 1] in "dD"
                    and _is_white(s[i + 2])
                ):
                    end = i - 2  # before the white space ahead of "and"
                    i += 2
                    found = True
                preceding_white = False
            elif c == "{":
                level = 1
                i += 1
                while level > 0 and i < n:
                    if s[i] == "}":
                        level -= 1
                    elif s[i] == "{":
                        level += 1
                    i += 1
                preceding_white = False
            else:
                preceding_white = _is_white(c)
                i += 1
        names.append(s[start:end])
    return names


def num_names(s: str) -> int:
    return len(split_names(s))


@dataclass
class _Name:
    buf: str  # the name without separators; tokens are slices of it
    tokens: list[int]  # token k is buf[tokens[k]:tokens[k + 1]]
    seps: dict[int, str]  # the separator before token k
    parts: dict[str, tuple[int, int]]  # f/v/l/j -> (first token, end token)

    def token(self, k: int) -> str:
        return self.buf[self.tokens[k] : self.tokens[k + 1]]


def _trim(name: str, warnings: list[str]) -> str:
    i, j = 0, len(name)
    while i < j and (_is_white(name[i]) or name[i] in _SEP):
        i += 1
    while j > i:
        c = name[j - 1]
        if _is_white(c) or c in _SEP:
            j -= 1
        elif c == ",":
            warnings.append("has a comma at the end")
            j -= 1
        else:
            break
    return name[i:j]


def _tokenize(
    name: str, warnings: list[str], seps: dict[int, str]
) -> tuple[str, list[int], dict[int, str], list[int]]:
    """The name without separators, its token starts, the separator before each
    token and the token index of each comma.  ``seps`` is updated in place: in
    bibtex it outlives the call, and a third comma reads what an earlier name
    left there."""
    buf: list[str] = []
    tokens: list[int] = []
    commas: list[int] = []
    starting = True
    n = len(name)
    i = 0
    while i < n:
        c = name[i]
        if c == ",":
            if len(commas) == 2:
                warnings.append("has too many commas")
            else:
                commas.append(len(tokens))
                seps[len(tokens)] = ","
            i += 1
            starting = True
        elif c == "{":
            if starting:
                tokens.append(len(buf))
            level = 0
            while i < n:
                ch = name[i]
                buf.append(ch)
                i += 1
                if ch == "{":
                    level += 1
                elif ch == "}":
                    level -= 1
                    if level == 0:
                        break
            starting = False
        elif c == "}":  # unbalanced: bibtex complains and drops it
            if starting:
                tokens.append(len(buf))
            warnings.append("isn't brace balanced")
            i += 1
            starting = False
        elif _is_white(c) or c in _SEP:
            if not starting:
                seps[len(tokens)] = " " if _is_white(c) else c
            i += 1
            starting = True
        else:
            if starting:
                tokens.append(len(buf))
            buf.append(c)
            i += 1
            starting = False
    tokens.append(len(buf))
    return "".join(buf), tokens, seps, commas


def _von_token(token: str) -> bool:
    """Whether a token starts with a lower-case letter (at brace level 0, or in a special character)."""
    n = len(token)
    i = 0
    while i < n:
        c = token[i]
        if "A" <= c <= "Z":
            return False
        if "a" <= c <= "z":
            return True
        if c == "{":
            i += 1
            if i + 2 < n and token[i] == "\\":
                # A special character: a foreign letter's case, else its first letter.
                i += 1
                start = i
                while i < n and _is_alpha(token[i]):
                    i += 1
                name = token[start:i]
                if name in _UPPER_LETTERS:
                    return False
                if name in _LOWER_LETTERS:
                    return True
                level = 1
                while i < n and level > 0:
                    ch = token[i]
                    if "A" <= ch <= "Z":
                        return False
                    if "a" <= ch <= "z":
                        return True
                    if ch == "}":
                        level -= 1
                    elif ch == "{":
                        level += 1
                    i += 1
                return False
            level = 1
            while i < n and level > 0:
                if token[i] == "}":
                    level -= 1
                elif token[i] == "{":
                    level += 1
                i += 1
        else:
            i += 1
    return False


@dataclass
class NameState:
    """What bibtex's ``format.name$`` keeps from one call to the next (one per run)."""

    seps: dict[int, str] = field(default_factory=dict)


def parse_name(
    name: str, warnings: list[str] | None = None, state: NameState | None = None
) -> _Name:
    """A name split into First, von, Last and Jr tokens, as bibtex splits it."""
    warnings = warnings if warnings is not None else []
    seps = (state or NameState()).seps
    buf, tokens, seps, commas = _tokenize(_trim(name, warnings), warnings, seps)
    seps = dict(seps)
    num = len(tokens) - 1
    tok = lambda k: buf[tokens[k] : tokens[k + 1]]  # noqa: E731

    def von_end_from(von_start: int, last_end: int) -> int:
        von_end = last_end - 1
        while von_end > von_start:
            if _von_token(tok(von_end - 1)):
                return von_end
            von_end -= 1
        return von_end

    if not commas:
        last_end = jr_end = num
        von_start = 0
        von_end = -1
        while von_start < last_end - 1:
            if _von_token(tok(von_start)):
                von_end = von_end_from(von_start, last_end)
                break
            von_start += 1
        if von_end < 0:
            while von_start > 0:
                sep = seps.get(von_start, " ")
                if sep not in _SEP or sep == "~":
                    break
                von_start -= 1
            von_end = von_start
        first = (0, von_start)
    else:
        von_start = 0
        last_end = commas[0]
        jr_end = commas[1] if len(commas) == 2 else last_end
        first = (jr_end, num)
        von_end = von_end_from(von_start, last_end)
    parts = {
        "f": first,
        "v": (von_start, von_end),
        "l": (von_end, last_end),
        "j": (last_end, jr_end),
    }
    return _Name(buf, tokens, seps, parts)


def _enough_chars(out: list[str], start: int, level: list[int], enough: int = 3) -> bool:
    """Whether the output from ``start`` has ``enough`` text characters (braces count).

    ``level`` is bibtex's brace level, which this count shares with the
    rest of ``format.name$``: a count that stops inside a group leaves it
    raised, and the next count sees ``{\\ss}`` as three characters, not one.
    """
    text = "".join(out[start:])
    n = len(text)
    i = 0
    count = 0
    while i < n and count < enough:
        c = text[i]
        i += 1
        if _is_ghost(c):
            continue
        if c == "{":
            level[0] += 1
            if level[0] == 1 and i < n and text[i] == "\\":
                i += 1
                while i < n and level[0] > 0:
                    if text[i] == "}":
                        level[0] -= 1
                    elif text[i] == "{":
                        level[0] += 1
                    i += 1
        elif c == "}":
            level[0] -= 1
        count += 1
    return count >= enough


def _abbreviate(token: str) -> str:
    n = len(token)
    i = 0
    while i < n:
        c = token[i]
        if _is_alpha(c):
            # bibtex takes one byte; the rest of a UTF-8 character follows as ghosts.
            rest = ""
            j = i + 1
            if c >= "\udcc0":
                while j < n and (_continuation(token[j]) or _is_ghost(token[j])):
                    rest += token[j] if _is_ghost(token[j]) else _ghost(token[j])
                    j += 1
            return c + rest
        if c == "{" and i + 1 < n and token[i + 1] == "\\":
            j = _skip_special(token, i + 1, n)
            return token[i:j]
        i += 1
    return ""


def format_name(
    names: str,
    index: int,
    fmt: str,
    warnings: list[str] | None = None,
    state: NameState | None = None,
) -> str:
    """``format.name$``: name number ``index`` (from 1) of ``names`` in the format ``fmt``
    (``{ff~}{vv~}{ll}{, jj}``, ``{f.~}``...), with bibtex's ties.

    Past the last name bibtex complains and formats the last one.
    """
    warnings = warnings if warnings is not None else []
    all_names = split_names(names)
    if index > len(all_names):
        warnings.append(f"there is no name {index}")
    chosen = all_names[min(index, len(all_names)) - 1] if all_names and index >= 1 else ""
    name = parse_name(chosen, warnings, state)
    out: list[str] = []
    level = [0]  # bibtex's brace level, shared by the length checks
    n = len(fmt)
    i = 0
    while i < n:
        c = fmt[i]
        if c == "{":
            i = _format_group(fmt, i + 1, name, out, level)
        elif c == "}":
            i += 1  # unbalanced: bibtex complains and skips it
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _group_letters(fmt: str, i: int) -> tuple[str, bool, int]:
    """The part letter of the group starting at ``i`` ("" if none or invalid), whether
    doubled, and the index after the group."""
    n = len(fmt)
    level = 1
    letter = ""
    double = False
    found = False
    valid = True
    while i < n and level > 0:
        c = fmt[i]
        if level == 1 and _is_alpha(c):
            i += 1
            if found:
                valid = False
                continue
            found = True
            low = c.lower()
            if low in "fvlj":
                letter = low
                if i < n and fmt[i].lower() == low:
                    double = True
                    i += 1
            else:
                valid = False
        elif c == "}":
            level -= 1
            i += 1
        elif c == "{":
            level += 1
            i += 1
        else:
            i += 1
    return (letter if valid else ""), double, i


def _format_group(fmt: str, i: int, name: _Name, out: list[str], brace: list[int]) -> int:
    letter, double, end = _group_letters(fmt, i)
    if not letter:
        return end
    first, last = name.parts[letter]
    if first >= last:
        return end
    level = 1
    n = len(fmt)
    # bibtex counts a part's "enough characters" from the group's start, its
    # text before the letters included: ", C. A.~J." but "C.~A.~J.".
    part_start = len(out)
    while i < n and level > 0:
        c = fmt[i]
        if level == 1 and _is_alpha(c):
            i += 2 if double else 1
            delimiter = None
            if i < n and fmt[i] == "{":
                # An explicit separator between tokens: {f{}} or {ll{-}}.
                j = i + 1
                depth = 1
                while j < n and depth > 0:
                    if fmt[j] == "{":
                        depth += 1
                    elif fmt[j] == "}":
                        depth -= 1
                    j += 1
                delimiter = fmt[i + 1 : j - 1]
                i = j
            for k in range(first, last):
                token = name.token(k)
                out.append(token if double else _abbreviate(token))
                if k + 1 < last:
                    if delimiter is not None:
                        out.append(delimiter)
                        continue
                    if not double:
                        out.append(".")
                    sep = name.seps.get(k + 1, " ")
                    if sep in _SEP:
                        out.append(sep)
                    elif k + 1 == last - 1 or not _enough_chars(out, part_start, brace):
                        out.append("~")
                    else:
                        out.append(" ")
        elif c == "}":
            level -= 1
            i += 1
            if level > 0:
                out.append("}")
        elif c == "{":
            level += 1
            i += 1
            out.append("{")
        else:
            out.append(c)
            i += 1
    # A tie at the end of the group is discretionary: a space after a long part.
    if out and out[-1].endswith("~"):
        out[-1] = out[-1][:-1]
        if "".join(out).endswith("~"):
            pass  # "~~": a tie the style insists on
        elif not _enough_chars(out, part_start, brace):
            out.append("~")
        else:
            out.append(" ")
    return end
