// ESLint configuration of `make luci-lint` (run from the top directory
// with -c): the LuCI views of luci-app-wsflowd/
// and the browser test's shim and tools (tests/luci/).
import js from '@eslint/js';
import globals from 'globals';

// What LuCI puts in scope of every view (luci.js, cbi.js).
const luciGlobals = { L: 'readonly', E: 'readonly', _: 'readonly', N_: 'readonly' };

// LuCI's loader passes each 'require NAME [as ALIAS]' directive's class to
// the view as a variable: declared here for no-undef, on the first line so
// that line numbers stay.
const luciViews = {
	processors: {
		view: {
			preprocess(text) {
				const names = [];
				for (const m of text.matchAll(/^'require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?';?$/gm))
					names.push(m[2] || m[1].replace(/[^a-zA-Z0-9_]/g, '_'));
				return [ `/* global ${names.join(', ')} */ ${text}` ];
			},
			postprocess(messages) {
				return messages.flat();
			},
			supportsAutofix: false
		}
	}
};

export default [
	{ ignores: [ '**/node_modules/**' ] },
	js.configs.recommended,
	{
		// LuCI views: compiled by LuCI's loader as a function body, with
		// 'require ...' directives and a top-level return of the class.
		files: [ '**/luci-static/resources/view/**/*.js' ],
		plugins: { luci: luciViews },
		processor: 'luci/view',
		languageOptions: {
			ecmaVersion: 2020,
			sourceType: 'script',
			parserOptions: { ecmaFeatures: { globalReturn: true } },
			globals: { ...globals.browser, ...luciGlobals }
		},
		rules: {
			'strict': [ 'error', 'global' ],
			'no-unused-vars': [ 'error', { args: 'none' } ],
			'no-var': 'error',
			'prefer-const': 'error'
		}
	},
	{
		files: [ 'tests/luci/shim/**/*.js' ],
		languageOptions: {
			ecmaVersion: 2022,
			sourceType: 'script',
			globals: { ...globals.browser, ...globals.node, ...luciGlobals }
		},
		rules: {
			'no-unused-vars': [ 'error', { args: 'none' } ],
			'no-var': 'error'
		}
	},
	{
		files: [ 'tests/luci/*.js' ],
		languageOptions: {
			ecmaVersion: 2022,
			sourceType: 'commonjs',
			globals: { ...globals.node }
		}
	}
];
