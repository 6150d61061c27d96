from tests.ui.test_login import *
def test_zzq(empty_home):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    at.text_input(key="first_name").input("root.admin")
    at.text_input(key="first_password").input("long enough pw")
    at.text_input(key="first_password_again").input("long enough pX")
    at.button(key="first_submit").click().run()
    print("ERR", [e.value for e in at.error], at.exception, [(k, at.session_state[k]) for k in at.session_state])
    print([b.key for b in at.button], [t.title for t in at.title] if hasattr(at.title[0],'title') else [t.value for t in at.title])
    assert 0
