package 'gluon-web-mesh-vpn-wg'

local site = require 'gluon.site'
local loadbalancing = require 'gluon.mesh-vpn-wg.loadbalancing'

-- No page where the community fixed the choice ('on', 'off' or no key).
if loadbalancing.changeable(site.mesh_vpn.wireguard.loadbalancing()) then
	entry({"admin", "mesh_vpn_wg"}, model("admin/mesh_vpn_wg"), _("Mesh VPN loadbalancing"), 50)
end
