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
			"form.rule.text":            "%d 文字以内でお書きください。",
			"form.rule.text.optional":   "%d 文字以内でお書きください（空欄でもかまいません）。",
			"form.rule.rank":            "優先する順に、%d つ以上 %d つまで順位を付けてください。",
			"form.rule.rank.upto":       "優先する順に、%d つまで順位を付けてください（付けなくてもかまいません）。",
			"form.text.warning":         "コメントは書かれたとおりに公開されます。名前や住所など個人が分かることは書かないでください。",
			"form.text.count":           "%d 文字",
			"form.rank.position":        "%d 位",
			"form.rank.none":            "（選ばない）",
		},
		"en": {
			"form.blank":                "No answer",
			"form.rule.single":          "Choose one.",
			"form.rule.single.optional": "Choose one (you may leave it blank).",
			"form.rule.multiple":        "Choose between %d and %d.",
			"form.rule.multiple.exact":  "Choose %d.",
			"form.rule.multiple.upto":   "Choose up to %d (or none).",
			"form.rule.rating":          "Answer from %d to %d.",
			"form.rule.text":            "Write at most %d characters.",
			"form.rule.text.optional":   "Write at most %d characters (you may leave it empty).",
			"form.rule.rank":            "Rank between %d and %d, most important first.",
			"form.rule.rank.upto":       "Rank up to %d, most important first (or none).",
			"form.text.warning":         "Comments are published exactly as written. Do not write your name, address or anything else that identifies you.",
			"form.text.count":           "%d characters",
			"form.rank.position":        "Rank %d",
			"form.rank.none":            "(none)",
		},
	})
}
