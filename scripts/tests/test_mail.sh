#!/usr/bin/env bash
# test_mail.sh: scripts/mail.sh on a small stand-in kernel tree (no download,
# no kernel). The sender's identity (GIT_AUTHOR_NAME/EMAIL, else user.name and
# user.email) must be the From: of every mail and sign off last, after the
# Assisted-by: trailer; a commit its author did not sign off is the sender's,
# one its author signed off keeps them (in-body From:), also in the cover
# letter's shortlog; the tree's commits and the user's branches stay as they
# were.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
S=$here/..

pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }

# Only the identities given below: none from the machine.
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_CONFIG_COUNT GIT_CONFIG_PARAMETERS KERNEL_TREE BASE
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/gitconfig
: > "$GIT_CONFIG_GLOBAL"
placeholder="Seed maintainers <maintainers@users.noreply.example>"
codev="Co Developer <co@dev.example>"

# The user's kernel tree, and a series of two patches: one by the placeholder
# author with Assisted-by: and no sign-off, one signed off by its author.
user=$tmp/user
mkdir -p "$user/mm" && git -C "$user" init -q -b mine
echo 'int x;' > "$user/mm/huge_memory.c"
git -C "$user" add -A && git -C "$user" -c user.name=u -c user.email=u@x commit -qm base
scratch=$tmp/scratch
git clone -q "$user" "$scratch"
echo 'int y;' >> "$scratch/mm/huge_memory.c"
git -C "$scratch" -c user.name=c -c user.email=c@x commit -qa --author="$placeholder" \
	-m "mm: add y" -m "Add y." -m "Assisted-by: LLM"
echo 'int z;' >> "$scratch/mm/huge_memory.c"
git -C "$scratch" -c user.name=c -c user.email=c@x commit -qa --author="$codev" \
	-m "mm: add z" -m "Add z." -m "Assisted-by: LLM
Signed-off-by: $codev"
git -C "$scratch" format-patch -q --zero-commit -o "$tmp/patches" HEAD~2..HEAD
state() { git -C "$user" for-each-ref --format='%(refname) %(objectname)' refs/heads; }
before=$(state)

# mail DIR ENV...: run mail.sh with ENV on the stand-in tree into DIR.
mail() {
	local dir=$1; shift
	env KERNEL_TREE="$user" PATCHES="$tmp/patches" BRANCH=t-mail TREE="$tmp/tree" \
		MAIL_NO_RECIPIENTS=1 "$@" bash "$S/mail.sh" "$dir" >"$tmp/out" 2>"$tmp/err"
}

# check_mails DIR SENDER: the From: of every mail and the trailers.
check_mails() {
	python3 - "$1" "$2" "$placeholder" "$codev" <<'PY'
import email, email.header, glob, os, re, sys
d, sender, placeholder, codev = sys.argv[1:]
bad = []
mails = sorted(glob.glob(os.path.join(d, "*.patch")))
if [os.path.basename(m)[:4] for m in mails] != ["0000", "0001", "0002"]:
    sys.exit("mails: %s" % [os.path.basename(m) for m in mails])
for path in mails:
    name = os.path.basename(path)
    raw = open(path, encoding="utf-8").read()
    msg = email.message_from_string(raw)
    frm = str(email.header.make_header(email.header.decode_header(msg["From"])))
    frm = re.sub(r"\s+", " ", frm)
    if frm != sender:
        bad.append("%s: From: %r, not the sender %r" % (name, frm, sender))
    if placeholder in raw:
        bad.append("%s: still names the placeholder author" % name)
    if name.startswith("0000"):
        sender_name, codev_name = sender.split(" <")[0], codev.split(" <")[0]
        for who, subject in ((sender_name, "mm: add y"), (codev_name, "mm: add z")):
            if "\n%s (1):\n  %s\n" % (who, subject) not in raw:
                bad.append("%s: no shortlog entry '%s (1): %s'" % (name, who, subject))
        continue
    body = raw.partition("\n\n")[2]
    message = body.split("\n---\n")[0].rstrip("\n").split("\n")
    inbody = [l for l in message if l.startswith("From: ")]
    want = ["From: " + codev] if name.startswith("0002") else []
    if inbody != want:
        bad.append("%s: in-body From: lines %s, want %s" % (name, inbody, want))
    trailers = message[-3:] if name.startswith("0002") else message[-2:]
    want = (["Assisted-by: LLM"] + (["Signed-off-by: " + codev] if name.startswith("0002") else [])
            + ["Signed-off-by: " + sender])
    if trailers != want:
        bad.append("%s: trailers %s, want %s" % (name, trailers, want))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
}

# The sender from GIT_AUTHOR_*, over the configured identity; a non-ASCII name.
printf '[user]\n\tname = Config Person\n\temail = config@example.org\n' > "$GIT_CONFIG_GLOBAL"
if mail "$tmp/m1" GIT_AUTHOR_NAME="Zoë Sender" GIT_AUTHOR_EMAIL=zoe@example.org; then
	ok "mail.sh with GIT_AUTHOR_NAME/EMAIL"
	if out=$(check_mails "$tmp/m1" "Zoë Sender <zoe@example.org>" 2>&1); then
		ok "GIT_AUTHOR_*: From: is the sender, Assisted-by then the sender's Signed-off-by"
	else notok "GIT_AUTHOR_*: $(echo "$out" | tr '\n' '|')"; fi
else notok "mail.sh with GIT_AUTHOR_NAME/EMAIL: $(tail -n2 "$tmp/err" | tr '\n' '|')"; fi

# The sender from the git configuration (git -c user.name=... style).
: > "$GIT_CONFIG_GLOBAL"
if mail "$tmp/m2" GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0="Ann Other" \
		GIT_CONFIG_KEY_1=user.email GIT_CONFIG_VALUE_1=ann@example.net; then
	ok "mail.sh with user.name/user.email"
	if out=$(check_mails "$tmp/m2" "Ann Other <ann@example.net>" 2>&1); then
		ok "user.name/email: From: is the sender, Assisted-by then the sender's Signed-off-by"
	else notok "user.name/email: $(echo "$out" | tr '\n' '|')"; fi
else notok "mail.sh with user.name/user.email: $(tail -n2 "$tmp/err" | tr '\n' '|')"; fi

# The check itself notices a wrong sender.
if [ -d "$tmp/m2" ] && ! check_mails "$tmp/m2" "Someone Else <else@example.com>" >/dev/null; then
	ok "a mail from someone other than the sender is caught"
else notok "a mail from someone other than the sender is not caught"; fi

# No identity: an error, no mails.
if ! mail "$tmp/m3" && grep -q "no git identity" "$tmp/err"; then
	ok "no git identity: $(grep 'error' "$tmp/err" | tail -n1 | cut -c1-60)..."
else notok "no git identity: rc 0 or another error: $(tail -n2 "$tmp/err" | tr '\n' '|')"; fi

# The tree keeps the commits as they were; the user's branches are untouched.
authors=$(git -C "$tmp/tree" log --format='%an <%ae>' HEAD~2..HEAD 2>/dev/null)
if [ "$authors" = "$codev"$'\n'"$placeholder" ] &&
   ! git -C "$tmp/tree" log --format=%B HEAD~2..HEAD | grep -q 'Zoë\|Ann Other'; then
	ok "the tree's commits are unchanged"
else notok "the tree's commits changed: $authors"; fi
if [ "$(state | grep -v refs/heads/t-mail)" = "$before" ]; then ok "user's branches untouched"
else notok "user's branches changed"; fi

echo "test_mail: $pass passed, $fail failed"
[ $fail -eq 0 ]
