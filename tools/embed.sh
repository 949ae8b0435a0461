#!/bin/sh
# embed.sh NAME FILE — prints C source holding FILE's bytes as the
# NUL-terminated array NAME and its length (without the NUL) as NAME_len.
set -e
name=$1
file=$2
echo "/* Made from $(basename "$file") by tools/embed.sh: do not edit. */"
echo "#include <stddef.h>"
echo "extern const char ${name}[];"
echo "extern const size_t ${name}_len;"
echo "const char ${name}[] = {"
od -An -v -tx1 "$file" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0};"
echo "const size_t ${name}_len = sizeof ${name} - 1;"
