-- TEST STAND-IN for gluon-mesh-vpn-core's `gluon.mesh-vpn` (not the real
-- one): only what the provider uses.
return {
	get_interface = function()
		return 'mesh-vpn'
	end,
}
