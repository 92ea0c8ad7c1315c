"""One parser per export format (Patreon, Substack, Ko-fi, OnlyFans, Instagram, TikTok, a
mapped generic CSV), and the detection that picks one."""
