# Sourced by the server benches: runs rps "" (native) and rps "$E" (under the
# prefix) alternately ROUNDS times and prints the two medians: "NATIVE UNDER".
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
alternate() {
	na=""; fa=""; i=0
	while [ $i -lt "$ROUNDS" ]; do
		na="$na $(rps "")"
		fa="$fa $(rps "$E")"
		i=$((i + 1))
	done
	echo "$(echo $na | tr ' ' '\n' | median) $(echo $fa | tr ' ' '\n' | median)"
}
