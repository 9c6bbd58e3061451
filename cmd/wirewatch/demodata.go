package main

// demoItem is one sample news item of the offline demo. The texts are
// written for wirewatch (invented wire copy in the style of the running
// example), not taken from any publisher.
type demoItem struct {
	Feed    string // "wire" (RSS 2.0), "rights" (Atom 1.0) or "world" (JSON Feed 1.1)
	Slug    string
	Title   string
	Summary string
	// Correction, when set, replaces Title three intervals after the item
	// appears: the publisher corrected its headline.
	Correction string
}

// demoItems lists the sample items in publication order. The first
// demoBaselineItems are there from the start (the baseline: they fill the
// topic feeds but send no alerts); the rest appear one at a time while the
// demo runs.
var demoItems = []demoItem{
	// Present at start (baseline).
	{"wire", "geneva-council-opens", "Human Rights Council opens autumn session in Geneva",
		"Diplomats gathered in Geneva as the UN Human Rights Council began a four-week session with Xinjiang, Ukraine and Afghanistan on the agenda.", ""},
	{"wire", "cotton-futures", "Cotton futures edge higher on weather worries",
		"Prices for cotton rose for a third day as traders weighed dry weather in Texas and steady demand from spinning mills in Xinjiang and India.", ""},
	{"rights", "uyghur-exiles-await-report", "Uyghur exiles wait for the UN's long-delayed Xinjiang assessment",
		"Families of detained Uyghurs say the OHCHR report on Xinjiang, promised for months, is their last hope of an official account of the camps.", ""},
	{"rights", "ohchr-ukraine-briefing", "UN rights office briefs on civilian casualties in Ukraine",
		"The OHCHR monitoring mission said shelling of residential areas continued to kill and injure civilians in eastern Ukraine.", ""},
	{"world", "urumqi-lockdown", "Urumqi extends Covid-19 lockdown for another week",
		"Authorities in the Xinjiang capital said residents must stay home while mass testing continues; supermarkets will deliver food.", ""},
	{"world", "bachelet-chile-visit", "Bachelet returns to Chile after her term in Geneva",
		"Michelle Bachelet was welcomed in Santiago, where she is expected to comment on the country's constitutional referendum.", ""},

	// Appear while the demo runs.
	{"wire", "un-report-released", "UN says China's treatment of Uyghurs may amount to crimes against humanity",
		"The UN human rights office released its long-awaited assessment of Xinjiang minutes before Michelle Bachelet's term ended, citing serious human rights violations.", ""},
	{"world", "football-cup-final", "Late goal settles the cup final",
		"A header in stoppage time gave the visitors the trophy after a tense match watched by a record crowd.", ""},
	{"rights", "hrw-calls-for-inquiry", "Human Rights Watch urges UN inquiry after Xinjiang findings",
		"The group said the OHCHR findings on arbitrary detention of Uyghurs and other Turkic Muslims demand an international investigation.", ""},
	{"wire", "beijing-rejects-assessment", "Beijing rejects UN Xinjiang report as a 'farce'",
		"China's mission in Geneva said the assessment was based on disinformation and that vocational training centres had been closed.",
		"Beijing rejects UN Xinjiang report, calls it a 'farce' based on disinformation"},
	{"world", "solar-supply-chain", "Solar makers audit suppliers over Uyghur forced labour rules",
		"Manufacturers are tracing polysilicon back to its source as import bans on goods made with forced labour in Xinjiang take effect.", ""},
	{"world", "un-report-world-desk", "UN says China's treatment of Uyghurs may amount to crimes against humanity",
		"The World Desk's own report on the UN assessment: the same story the wire carried, from another outlet.", ""},
	{"wire", "rate-decision", "Central bank holds rates steady",
		"Policymakers kept borrowing costs unchanged and signalled they would wait for more data on inflation before moving.", ""},
	{"rights", "council-vote-fails", "Human Rights Council rejects debate on Xinjiang report",
		"A motion to discuss the UN's findings on human rights in Xinjiang failed by two votes, a setback for Western states and Uyghur groups.", ""},
	{"world", "xinjiang-earthquake", "Magnitude 5.1 earthquake strikes southern Xinjiang",
		"No casualties were reported after the tremor near Kashgar, state media said; rail services were briefly suspended for checks.", ""},
	{"wire", "survivor-testimony", "Former detainee describes life inside a Xinjiang camp",
		"A Uyghur woman told reporters in Istanbul how she was held for 14 months in what officials called a vocational training centre, echoing the UN report's findings on human rights.", ""},
}

// demoBaselineItems is how many items are present at start.
const demoBaselineItems = 6
