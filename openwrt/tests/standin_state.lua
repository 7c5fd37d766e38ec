-- What the tests tell the stand-ins (the site they serve, the directory
-- their UCI files live in). Kept out of the stand-ins themselves so that
-- each stand-in exports only names the real module has.
return {
	site = {},
	uci_dir = '/etc/config',
}
