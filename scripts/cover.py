#!/usr/bin/env python3
"""cover.py extract COVER.patch: print the branch description that
`git format-patch --cover-from-description=subject` turns back into this
cover letter: the subject (without the [PATCH ...] prefix), a blank line,
then the blurb (the text before format-patch's shortlog)."""
import re
import sys


def extract(text):
    head, _, body = text.partition("\n\n")
    # Subject may be folded over several header lines.
    m = re.search(r"^Subject: (.*(?:\n[ \t].*)*)", head, re.M)
    if not m:
        raise SystemExit("cover.py: no Subject: header")
    subject = re.sub(r"\s*\n[ \t]+", " ", m.group(1))
    subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject)
    lines = body.split("\n")
    # The shortlog starts with "Author Name (N):".
    end = next((i for i, l in enumerate(lines)
                if re.match(r"^\S.* \(\d+\):$", l)), len(lines))
    blurb = "\n".join(lines[:end]).strip("\n")
    return subject + "\n\n" + blurb + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "extract":
        raise SystemExit("usage: cover.py extract COVER.patch")
    with open(sys.argv[2], encoding="utf-8") as f:
        sys.stdout.write(extract(f.read()))
