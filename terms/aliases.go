package terms

// aliasGroups is a small built-in table of names with well-known variant
// spellings, transliterations or long forms, so that a report that writes
// only "Uyghur" still yields "Uighur" and "Uygur" for the query, and the
// occurrences of "UN human rights chief" and "Office of the High
// Commissioner for Human Rights" count as one term. The first form is the
// group's preferred name. Forms written in capitals (OHCHR, WHO) match only
// when written in capitals in the text; other forms match case-insensitively.
//
// The table is deliberately short and general (places, peoples and
// organisations that news about many stories names in more than one way).
// Acronyms a report defines itself ("Full Name (ACR)") are detected without
// it.
var aliasGroups = [][]string{
	// Peoples and places with several transliterations.
	{"Uyghur", "Uighur", "Uygur", "Uigur"},
	{"Xinjiang", "Sinkiang"},
	{"Tibet", "Xizang"},
	{"Myanmar", "Burma"},
	{"Kyiv", "Kiev"},
	{"Beijing", "Peking"},
	{"Mumbai", "Bombay"},
	{"Türkiye", "Turkey"},
	{"Rohingya", "Rohingyas"},
	{"Gaddafi", "Qaddafi", "Kadhafi", "Gadhafi"},
	{"Zelensky", "Zelenskyy", "Zelenskiy"},
	{"al-Qaeda", "al-Qaida", "al Qaeda"},
	{"Hezbollah", "Hizbollah", "Hizballah"},
	// Organisations: acronym, long form, and the way news writes them.
	{"OHCHR", "Office of the High Commissioner for Human Rights", "UN High Commissioner for Human Rights",
		"United Nations High Commissioner for Human Rights", "High Commissioner for Human Rights",
		"UN human rights office", "UN rights office", "United Nations human rights office",
		"UN human rights chief", "UN rights chief", "High Commissioner's office"},
	{"UNHRC", "UN Human Rights Council", "United Nations Human Rights Council", "Human Rights Council"},
	{"UNHCR", "UN refugee agency", "UN High Commissioner for Refugees", "United Nations High Commissioner for Refugees"},
	{"UN", "United Nations"},
	{"EU", "European Union"},
	{"HRW", "Human Rights Watch"},
	{"Amnesty International", "Amnesty"},
	{"WHO", "World Health Organization"},
	{"ICC", "International Criminal Court"},
	{"ICJ", "International Court of Justice"},
	{"IMF", "International Monetary Fund"},
	{"WTO", "World Trade Organization"},
	{"NATO", "North Atlantic Treaty Organization", "Nato"},
	{"CCP", "CPC", "Chinese Communist Party", "Communist Party of China"},
	{"IAEA", "International Atomic Energy Agency"},
	{"ASEAN", "Association of Southeast Asian Nations"},
}
