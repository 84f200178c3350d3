#!/usr/bin/env bash
# mail.sh [OUTDIR]: write the series as mails (default out/mail/), sent by
# you: threaded, To/Cc from the tree's scripts/get_maintainer.pl. Nothing is
# sent: use git send-email or b4 on it.
#
# You are the sender: your git identity (GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL when
# set, else the committer identity, i.e. user.name/user.email) is the From: of
# every mail, and your Signed-off-by goes after the commit's trailers
# (Assisted-by: ..., then Signed-off-by: you), as the kernel's
# Documentation/process/coding-assistants.rst asks: the human who sends an
# assisted patch signs the DCO and answers for it. A commit whose author did
# not sign it off (the series' placeholder author) is mailed with you as its
# author; a commit whose author signed it off keeps them as the author (the
# usual in-body "From:" line). The tree, its commits and branch are not
# changed: only the written mails are.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$ROOT/out/mail}
tree=$(bash "$ROOT/scripts/tree.sh" series)
# With KERNEL_TREE, base_rev may be HEAD of the user's tree, not of ours.
base=$(git -C "${KERNEL_TREE:-$tree}" rev-parse "$(base_rev)^{commit}")

# The sender, as "Name <email>".
if [ -n "${GIT_AUTHOR_NAME:-}${GIT_AUTHOR_EMAIL:-}" ]; then var=GIT_AUTHOR_IDENT; else var=GIT_COMMITTER_IDENT; fi
ident=$(git -C "$tree" var "$var" 2>/dev/null | sed 's/>.*/>/') && [ -n "$ident" ] ||
	die "no git identity: set user.name and user.email (or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL): they become the From: and Signed-off-by of the mails"
name=${ident% <*} email=${ident##*<}
email=${email%>}
[ -n "$name" ] && [[ $email == ?*@?* ]] || die "git identity '$ident' has no name or no email address"
# format-patch --signoff signs with the committer identity, and the cover
# letter and Message-Ids use it: make it the sender's.
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email

rm -rf "$out" && mkdir -p "$out"
git -C "$tree" -c core.abbrev=12 format-patch -q -o "$out" --from="$name <$email>" --signoff \
	--thread=shallow --no-signature --cover-letter --cover-from-description=subject \
	--subject-prefix="PATCH v1" --base="$base" "$base..HEAD"

# --from puts the sender in the From: header and, when the commit's author
# differs, the author in an in-body "From:" line that makes them the author.
# Drop that line where the author did not sign the commit off. The cover
# letter gets the patches' From: header (git does not RFC 2047-encode its
# own), and its shortlog the authors of the mails.
authors=$(mktemp)
trap 'rm -f "$authors"' EXIT
git -C "$tree" log -z --no-mailmap \
	--format='%H%x01%an <%ae>%x01%s%x01%(trailers:key=Signed-off-by,valueonly,separator=%x02)' \
	"$base..HEAD" > "$authors"
n=$(python3 - "$tree" "$authors" "$name <$email>" "$out"/[0-9]*.patch <<'PY'
import os, re, subprocess, sys
tree, authors_file, sender, paths = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
commits, order = {}, []         # order: newest first, as git log
for rec in open(authors_file, encoding="utf-8").read().split("\0"):
    rec = rec.strip("\n")
    if rec:
        sha, author, subject, sobs = rec.split("\x01")
        commits[sha] = (author, subject, [s.strip() for s in sobs.split("\x02") if s.strip()])
        order.append(sha)
mailed = {}                     # sha: the author its mail gives
def shortlog(author_of):
    """The cover letter's shortlog (format-patch: wrap 72, indent 2, 4)."""
    log = "".join("commit %s\nAuthor: %s\n\n    %s\n\n" % (c, author_of(c), commits[c][1])
                  for c in order)
    return subprocess.run(["git", "-C", tree, "shortlog", "-w72,2,4"], input=log,
                          capture_output=True, text=True, check=True).stdout
def addr(ident):
    m = re.search(r"<([^>]*)>", ident)
    return (m.group(1) if m else ident).strip().lower()
FROM = re.compile(r"^From: .*(\n[ \t].*)*", re.M)	# the header, folded or not
changed, from_header, cover = 0, None, None
for path in paths:
    text = open(path, encoding="utf-8").read()
    if os.path.basename(path).startswith("0000-"):
        cover = path
        continue
    if from_header is None:
        from_header = FROM.search(text.partition("\n\n")[0]).group(0)
    m = re.match(r"From ([0-9a-f]{40}) ", text)
    if not m or m.group(1) not in commits:
        sys.exit(f"{path}: not a mail of a commit of the series")
    author, _, sobs = commits[m.group(1)]
    mailed[m.group(1)] = author
    if author == sender or addr(author) in {addr(s) for s in sobs}:
        continue			# the sender's own, or signed off by its author
    mailed[m.group(1)] = sender
    head, sep, body = text.partition("\n\n")
    inbody = "From: " + author + "\n\n"
    if not body.startswith(inbody):
        sys.exit(f"{path}: no in-body From: {author} line from format-patch --from")
    open(path, "w", encoding="utf-8").write(head + sep + body[len(inbody):])
    changed += 1
if cover and from_header:
    head, sep, body = open(cover, encoding="utf-8").read().partition("\n\n")
    head = FROM.sub(lambda _: from_header, head, count=1)
    old, new = shortlog(lambda c: commits[c][0]), shortlog(lambda c: mailed.get(c, commits[c][0]))
    if body.count(old) == 1:
        body = body.replace(old, new)
    elif old != new:
        print("mail.sh: warning: cover letter shortlog not found; it keeps the commits' authors",
              file=sys.stderr)
    open(cover, "w", encoding="utf-8").write(head + sep + body)
print(changed)
PY
) || die "cannot set the sender as the author of the mails"
# To/Cc: the cover letter has them from export; add them to every mail.
[ -n "${MAIL_NO_RECIPIENTS:-}" ] || bash "$ROOT/scripts/recipients.sh" "$tree" "$out" "$out"/*.patch
log "mail: $(ls "$out" | wc -l) mails in $out, from and signed off by $name <$email> (author of the $n commits not signed off by their author)"
