package web

func init() {
	addMessages(map[string]map[string]string{
		"ja": {
			"form.blank":                "回答しない",
			"form.rule.single":          "1つ選んでください。",
			"form.rule.single.optional": "1つ選んでください（回答しなくてもかまいません）。",
			"form.rule.multiple":        "%d つ以上 %d つまで選んでください。",
			"form.rule.multiple.exact":  "%d つ選んでください。",
			"form.rule.multiple.upto":   "%d つまで選んでください（選ばなくてもかまいません）。",
			"form.rule.rating":          "%d から %d で答えてください。",
		},
		"en": {
			"form.blank":                "No answer",
			"form.rule.single":          "Choose one.",
			"form.rule.single.optional": "Choose one (you may leave it blank).",
			"form.rule.multiple":        "Choose between %d and %d.",
			"form.rule.multiple.exact":  "Choose %d.",
			"form.rule.multiple.upto":   "Choose up to %d (or none).",
			"form.rule.rating":          "Answer from %d to %d.",
		},
	})
}
