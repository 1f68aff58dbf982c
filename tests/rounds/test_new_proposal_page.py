"""Who may open the form for a new proposal: the circle's members, as the API lets only them propose."""

from __future__ import annotations

from tests.helpers import add_member, create_circle
from tests.rounds.conftest import Circle


async def test_only_members_open_the_new_proposal_form(circle: Circle) -> None:
    ada = circle.people["ada"]
    kitchen = await create_circle(circle.client, ada, "Kitchen", parent_id=circle.id)  # Ada alone
    await add_member(circle.client, ada, kitchen["id"], "ada", ["leader"])  # Riverside's facilitator chooses it
    assert (await circle.client.patch(f"/api/circles/{kitchen['id']}", json={"private": True}, headers=ada)).is_success
    path = f"/circles/{kitchen['id']}/proposals/new"
    assert (await circle.client.get(path, headers=ada)).status_code == 200
    # Bo is in Riverside, its organisation, but not in the private Kitchen.
    refused = await circle.client.get(path, headers=circle.people["bo"])
    assert refused.status_code == 403
    assert "Only members of Kitchen take part in its proposals." in refused.text
    assert 'name="title"' not in refused.text
    # Zed is in no circle of the organisation: the circle does not exist for him.
    assert (await circle.client.get(path, headers=circle.people["zed"])).status_code == 404
