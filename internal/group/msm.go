package group

import "encoding/binary"

// VarTimeMSM returns Σ sᵢ·Pᵢ. It runs in variable time (its running time and
// memory access pattern depend on the scalars and points), so it must only be
// used on public data: proof verification, batch verification, tallying.
//
// Below pippengerMinPoints it uses the library's Straus method
// (VarTimeMultiScalarMult); above, the bucket method of Pippenger, which costs
// about ⌈255/c⌉·(n + 2^c) group additions for a window of c bits. Both give the
// same result for every input, including zero scalars, identity and repeated
// points. VarTimeMSM is single-threaded: callers parallelise at a higher level.
// It panics if the two slices have different lengths.
func VarTimeMSM(scalars []*Scalar, points []*Element) *Element {
	if len(scalars) != len(points) {
		panic("group: VarTimeMSM: length mismatch")
	}
	n := len(points)
	if n == 0 {
		return NewElement()
	}
	if n < pippengerMinPoints {
		return varTimeStraus(scalars, points)
	}
	return varTimePippenger(scalars, points, pippengerWindow(n))
}

// pippengerMinPoints is the crossover at which the bucket method becomes
// faster than Straus, measured with BenchmarkMSM on a 2-core amd64 machine
// (the two break even between 144 and 176 points, at about 8.7 µs/point).
const pippengerMinPoints = 160

// pippengerWindow returns the window width c for n points. The choices were
// measured with BenchmarkMSMWindow and agree with the cost model
// ⌈255/c⌉·(n − nonempty buckets + 2^c) additions; the optimum is flat, ±1 bit
// costing a few percent. Below pippengerMinPoints c only matters to tests.
func pippengerWindow(n int) uint {
	switch {
	case n < 160:
		return 6
	case n < 384:
		return 7
	case n < 1536:
		return 8
	case n < 3072:
		return 9
	case n < 6144:
		return 10
	case n < 12288:
		return 11
	case n < 24576:
		return 12
	default:
		return 13
	}
}

// varTimeStraus is the library's interleaved-window (Straus) method.
func varTimeStraus(scalars []*Scalar, points []*Element) *Element {
	return NewElement().VarTimeMultiScalarMult(scalars, points)
}

// varTimePippenger computes Σ sᵢ·Pᵢ with the bucket method and a window of c
// bits, 2 ≤ c ≤ 16.
//
// Each scalar, as its canonical little-endian encoding, is recoded into
// w = ⌈255/c⌉ signed digits dⱼ ∈ [-2^(c-1), 2^(c-1)) with s = Σ dⱼ·2^(cj). For
// each window j, point Pᵢ goes to bucket |dᵢⱼ| with the sign of dᵢⱼ, so only
// 2^(c-1) buckets are needed; the window sum Σₖ k·Bₖ is formed with a running
// sum from the top bucket down, and the window sums are combined by Horner's
// rule, highest window first, with c doublings between windows.
func varTimePippenger(scalars []*Scalar, points []*Element, c uint) *Element {
	if c < 2 || c > 16 {
		panic("group: varTimePippenger: window out of range")
	}
	n := len(points)
	w := int((255 + c - 1) / c)
	digits := recodeSigned(scalars, c, w)

	half := 1 << (c - 1)
	buckets := make([]Element, half)
	used := make([]bool, half)

	result := NewElement()
	var running, sum Element
	started := false // whether result is known to differ from the identity
	for j := w - 1; j >= 0; j-- {
		if started {
			for range c {
				result.Add(result, result)
			}
		}

		clear(used)
		top := -1
		for i, d := range digits[j*n : (j+1)*n] {
			switch {
			case d > 0:
				k := int(d) - 1
				if used[k] {
					buckets[k].Add(&buckets[k], points[i])
				} else {
					buckets[k].Set(points[i])
					used[k] = true
				}
				top = max(top, k)
			case d < 0:
				k := -int(d) - 1 // not int(-d): -(-2^15) overflows int16
				if used[k] {
					buckets[k].Subtract(&buckets[k], points[i])
				} else {
					buckets[k].Negate(points[i])
					used[k] = true
				}
				top = max(top, k)
			}
		}
		if top < 0 {
			continue
		}

		// running = Σ_{k' ≥ k} B_k'; sum = Σ_k running = Σ_k (k+1)·B_k.
		running.Set(&buckets[top])
		sum.Set(&running)
		for k := top - 1; k >= 0; k-- {
			if used[k] {
				running.Add(&running, &buckets[k])
			}
			sum.Add(&sum, &running)
		}
		if started {
			result.Add(result, &sum)
		} else {
			result.Set(&sum)
			started = true
		}
	}
	return result
}

// recodeSigned returns the signed base-2^c digits of every scalar, window
// major: digit j of scalar i is at index j·len(scalars)+i.
func recodeSigned(scalars []*Scalar, c uint, w int) []int16 {
	n := len(scalars)
	digits := make([]int16, w*n)
	half := int32(1) << (c - 1)
	full := int32(1) << c
	mask := uint64(full - 1)
	var enc [ScalarSize]byte
	var limbs [5]uint64 // limbs[4] = 0 so a window may run past bit 255
	for i, s := range scalars {
		s.Encode(enc[:0])
		for l := range 4 {
			limbs[l] = binary.LittleEndian.Uint64(enc[8*l:])
		}
		carry := int32(0)
		for j := range w {
			pos := uint(j) * c
			l, off := pos/64, pos%64
			v := limbs[l] >> off
			if off+c > 64 {
				v |= limbs[l+1] << (64 - off)
			}
			d := int32(v&mask) + carry
			carry = 0
			if d >= half {
				d -= full
				carry = 1
			}
			digits[j*n+i] = int16(d)
		}
		// s < ℓ < 2^253 and w·c ≥ 255, so the top window holds at most
		// c-2 bits and cannot produce a carry.
		if carry != 0 {
			panic("group: recodeSigned: scalar out of range")
		}
	}
	return digits
}
