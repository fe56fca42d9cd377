package group

// VarTimeMSM returns Σ sᵢ·Pᵢ in variable time: only for public data.
func VarTimeMSM(scalars []*Scalar, points []*Element) *Element {
	if len(scalars) != len(points) {
		panic("group: VarTimeMSM: length mismatch")
	}
	if len(points) == 0 {
		return NewElement()
	}
	return NewElement().VarTimeMultiScalarMult(scalars, points)
}
